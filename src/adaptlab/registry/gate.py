"""The quality gate: a candidate may replace the champion only if its held-out primary metric is not worse.

Metrics are keyed `dataset/metric` (`xquad-de-en/ndcg@10`). The gate compares the primary metric on the
held-out datasets both versions were evaluated on and fails when the candidate's mean is lower; with no
dataset in common it fails too, because "not measured" must not pass as "not worse".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str
    metric: str
    compared: dict[str, tuple[float, float]] = field(default_factory=dict)
    """dataset → (candidate, champion)"""


def primary_scores(metrics: dict[str, float], primary: str) -> dict[str, float]:
    """dataset → value of the primary metric."""
    suffix = f"/{primary}"
    return {k.removesuffix(suffix): v for k, v in metrics.items() if k.endswith(suffix)}


def quality_gate(
    candidate: dict[str, float],
    champion: dict[str, float],
    primary: str,
    candidate_label: str = "candidate",
    champion_label: str = "champion",
    min_delta: float = 0.0,
) -> GateResult:
    """Pass when mean(candidate) >= mean(champion) + min_delta over the shared held-out datasets."""
    mine, theirs = primary_scores(candidate, primary), primary_scores(champion, primary)
    shared = sorted(set(mine) & set(theirs))
    if not shared:
        return GateResult(
            False,
            f"{candidate_label} and {champion_label} share no held-out {primary} "
            f"(candidate: {', '.join(sorted(mine)) or 'none'}; champion: "
            f"{', '.join(sorted(theirs)) or 'none'}); register with --eval on the same "
            "dataset, or use --force",
            primary,
        )
    compared = {d: (mine[d], theirs[d]) for d in shared}
    new = sum(mine[d] for d in shared) / len(shared)
    old = sum(theirs[d] for d in shared) / len(shared)
    where = ", ".join(shared)
    if new < old + min_delta:
        return GateResult(
            False,
            f"{candidate_label} scores {primary} {new:.4f} < {champion_label} {old:.4f} "
            f"on {where}; use --force to promote anyway",
            primary,
            compared,
        )
    return GateResult(
        True,
        f"{candidate_label} {primary} {new:.4f} >= {champion_label} {old:.4f} on {where}",
        primary,
        compared,
    )
