"""Answers with citations: retrieved chunks numbered [1], [2], … and an answer that cites them."""
