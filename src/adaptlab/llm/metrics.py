"""Answer metrics: exact match and token F1 (SQuAD's definitions), BLEU (sacrebleu) and ROUGE-L
(rouge-score). All in 0..1 except BLEU, which sacrebleu reports in 0..100.

Tokens are Unicode words, lower-cased, so German umlauts and ß count (rouge-score's default tokenizer
would drop them); SQuAD's English article removal is left out because the data is bilingual.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"\w+", re.UNICODE)
PRIMARY_METRIC = "token_f1"


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def exact_match(prediction: str, reference: str) -> float:
    return float(tokens(prediction) == tokens(reference))


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


class _WordTokenizer:
    """rouge-score's tokenizer interface over our Unicode word tokens."""

    def tokenize(self, text: str) -> list[str]:
        return tokens(text)


def answer_metrics(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean EM, token F1 and ROUGE-L F, and corpus BLEU, over aligned predictions and references."""
    import sacrebleu
    from rouge_score import rouge_scorer

    if len(predictions) != len(references) or not references:
        raise ValueError("predictions and references must be non-empty and aligned")
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_WordTokenizer())
    n = len(references)
    rouge = sum(scorer.score(ref, pred)["rougeL"].fmeasure for pred, ref in zip(predictions, references))
    return {
        "exact_match": sum(map(exact_match, predictions, references)) / n,
        "token_f1": sum(map(token_f1, predictions, references)) / n,
        "bleu": sacrebleu.corpus_bleu(list(predictions), [list(references)]).score,
        "rouge_l": rouge / n,
        "n": float(n),
    }
