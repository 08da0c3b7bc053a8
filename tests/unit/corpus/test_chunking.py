from adaptlab.corpus.chunking import Chunker, ChunkingConfig, SentencePacker, count_words
from adaptlab.corpus.types import Document, Section


def _sentences(n: int, words: int = 10) -> str:
    return " ".join(f"Satz {i} " + " ".join(["wort"] * (words - 3)) + " Ende." for i in range(n))


def test_chunks_respect_the_word_budget_and_sentence_boundaries() -> None:
    chunks = SentencePacker(budget=50, overlap=10).pack(_sentences(20))
    assert len(chunks) > 1
    assert all(n <= 50 for n in count_words(chunks))
    assert all(c.endswith("Ende.") and c.startswith("Satz") for c in chunks)


def test_overlap_carries_the_last_sentence_forward() -> None:
    chunks = SentencePacker(budget=50, overlap=10).pack(_sentences(20))
    last_sentence = chunks[0].rsplit("Satz", 1)[1]
    assert chunks[1].startswith("Satz" + last_sentence)


def test_a_sentence_longer_than_the_budget_is_split_by_words() -> None:
    chunks = SentencePacker(budget=20, overlap=0).pack(" ".join(["wort"] * 75) + ".")
    assert max(count_words(chunks)) <= 20
    assert sum(count_words(chunks)) == 75


def test_token_chunks_leave_room_for_the_heading() -> None:
    def chars(texts):  # a "tokenizer" whose tokens are the non-space characters (additive, like wordpieces)
        return [len(t.replace(" ", "")) for t in texts]

    doc = Document("a.md", "", "T", [Section("Eins zwei drei. " * 30, heading="§ 1 Zweck")])
    chunks = Chunker(ChunkingConfig("tokens", 100, 0, "x"), chars).chunk(doc)
    assert len(chunks) > 1 and all(sum(chars([c.heading, c.text])) <= 100 for c in chunks)
    assert all(c.heading == "§ 1 Zweck" for c in chunks)
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_headings_fall_back_to_the_title_and_ids_are_stable() -> None:
    doc = Document("a.txt", "", "Titel", [Section("Ein Satz. Noch einer.")])
    first = Chunker(ChunkingConfig()).chunk(doc)
    again = Chunker(ChunkingConfig()).chunk(doc)
    assert first[0].heading == "Titel"
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert first[0].embed_text.startswith("Titel\n")
