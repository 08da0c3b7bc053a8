"""A short README.md saved with every fine-tuned model or adapter: base, data, objective, before/after."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from adaptlab.eval.metrics import PRIMARY_METRIC
from adaptlab.train.ensemble import is_ensemble_dir, read_ensemble
from adaptlab.train.evaluate import Scored
from adaptlab.train.finetune_config import FinetuneConfig


def write_model_card(folder: Path, name: str, config: FinetuneConfig, rules: Counter[str], n_train: int,
                     n_heldout: int, seconds: float, scores: list[Scored]) -> Path:
    lines = [
        f"# {name}", "",
        f"Fine-tuned by adaptlab from `{config.base}` (method `{config.method}`, objective `{config.objective}`).", "",
        "## Data", "",
        f"- source: `{config.pairs if config.objective != 'distill-parallel' else ', '.join(config.parallel_sources)}`",
        f"- {n_train} training pairs, {n_heldout} held out (split by document)",
        *[f"- rule `{rule}`: {count}" for rule, count in sorted(rules.items())],
        "", "## Training", "",
        f"- epochs {config.epochs}, batch {config.batch_size}, learning rate {config.resolved_learning_rate()}",
        f"- {seconds:.0f} s", "",
        *_ensemble_lines(Path(folder)),
    ]
    if scores:
        scoring = "" if config.window_weight is None else \
            f"; long documents scored from windows, best-window weight {config.window_weight:g}"
        lines += [f"## {PRIMARY_METRIC} (exact search{scoring})", "", "| dataset | model | role | value |",
                  "|---|---|---|---:|"]
        lines += [f"| {s.result.dataset} | {s.result.model} | {s.role} | {s.result.metrics[PRIMARY_METRIC]:.3f} |"
                  for s in scores]
    path = Path(folder) / "README.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ensemble_lines(folder: Path) -> list[str]:
    """The members and weights of an ensemble folder (served as one model), or nothing."""
    if not is_ensemble_dir(folder):
        return []
    members, meta = read_ensemble(folder)
    chosen = " (chosen on the held-out pairs)" if meta.get("weights_chosen_on_heldout") else ""
    return ["## Ensemble", "", f"Served as one model: each member's vectors, weighted{chosen}, concatenated.", "",
            *[f"- `{sub}`: weight {weight:g}" for sub, weight in members], ""]
