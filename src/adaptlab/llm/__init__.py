"""LLM fine-tuning: data formats and templates, data generation from the corpus, LoRA SFT and DPO with
trl + peft, evaluation, merging and GGUF export, batch generation and chat.

Heavy libraries (torch, transformers, trl, peft) are imported inside the functions that need them, so
importing this package (and `adaptlab --help`) stays instant.
"""
