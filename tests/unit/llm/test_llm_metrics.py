from __future__ import annotations

import pytest

from adaptlab.llm.metrics import answer_metrics, exact_match, token_f1


def test_exact_match_and_token_f1_follow_squad() -> None:
    assert exact_match("Die Größe, ja!", "die größe ja") == 1.0
    assert exact_match("die Größe", "die Grösse") == 1.0  # casefold: ß = ss
    assert exact_match("die Größe", "die Grüße") == 0.0
    assert token_f1("the cat sat", "the cat sat down") == pytest.approx(2 * 1 * 0.75 / 1.75)
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0 and token_f1("a b", "c d") == 0.0


def test_corpus_metrics_count_umlauts_and_order() -> None:
    refs = ["Der Netzbetreiber muss die Anlage unverzüglich anschließen.", "Strom aus Wind"]
    perfect = answer_metrics(refs, refs)
    assert perfect["exact_match"] == 1.0 and perfect["token_f1"] == 1.0 and perfect["rouge_l"] == 1.0
    assert perfect["bleu"] == pytest.approx(100.0)
    shuffled = answer_metrics(
        ["anschließen unverzüglich Anlage die muss Netzbetreiber Der", "Wind aus Strom"], refs
    )
    assert shuffled["token_f1"] == 1.0 and shuffled["exact_match"] == 0.0
    assert shuffled["rouge_l"] < 0.5 and shuffled["bleu"] < 20
    umlaut_only = answer_metrics(["für größere Übergänge"], ["für größere Übergänge"])
    assert umlaut_only["rouge_l"] == 1.0  # rouge-score's own tokenizer would drop these words
