"""What `adaptlab finetune` does, as one pydantic model: the `finetune:` YAML section and the CLI's flags.

Field descriptions are the help text, so the YAML schema and `--help` never disagree (the TRL
`<method>_config.py` pattern).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adaptlab.train.reranker_config import RerankerConfig

Method = Literal["full", "adapter", "bridge"]
Objective = Literal["mnrl", "cached-mnrl", "matryoshka", "triplet", "margin-mse", "distill-parallel", "tsdae", "mlm"]
Pretraining = Literal["tsdae", "mlm"]
METHODS: tuple[str, ...] = ("full", "adapter", "bridge")
OBJECTIVES: tuple[str, ...] = ("mnrl", "cached-mnrl", "matryoshka", "triplet", "margin-mse", "distill-parallel",
                               "tsdae", "mlm")
PAIR_OBJECTIVES: tuple[str, ...] = ("mnrl", "cached-mnrl", "matryoshka", "triplet", "margin-mse")
"""Objectives that train on (query, positive[, negatives]) rows."""
NEGATIVE_OBJECTIVES: tuple[str, ...] = ("triplet", "margin-mse")
"""Objectives that need a negative in every row (mined with hard_negatives, or given in the pairs file)."""
PRETRAINING: tuple[str, ...] = ("tsdae", "mlm")
"""Domain pre-training on raw corpus sentences: an objective of its own, or `pretrain` before a pair objective."""


class FinetuneConfig(BaseModel):
    """One fine-tuning run: base model, method, objective, data, evaluation and where the result goes."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field("minilm", description="Zoo name or local sentence-transformers folder to start from.")
    method: Method = Field(
        "full", description="full: train every weight (sentence-transformers models); adapter: train a small "
        "adapter on the frozen model's vectors (any model, incl. e5-small and use-multilingual); bridge: keep the base "
        "and its stored vectors, answer queries in other languages with `bridge_encoder` mapped into its space "
        "(fitted on parallel_sources and english_sources; objective and pairs do not apply)."
    )
    objective: Objective = Field(
        "mnrl", description="mnrl: in-batch negatives (InfoNCE); cached-mnrl: same with a large batch in small "
        "memory; matryoshka: mnrl at several truncated dimensions; triplet: anchor closer to its positive than to "
        "its negative by a margin (needs negatives); margin-mse: the teacher's score margin between positive and "
        "negative as the target (GPL pseudo-labels, needs negatives); distill-parallel: German and English "
        "sentences onto the frozen base's English embedding; tsdae: denoising auto-encoder on raw corpus sentences; "
        "mlm: masked-language-model continued pre-training on raw corpus sentences (full method only)."
    )
    pretrain: Pretraining | None = Field(
        None, description="full, pair objectives: domain pre-training (tsdae or mlm) on the corpus sentences of the "
        "training documents before the pair objective trains, in the same run."
    )
    pretrain_sentences: int = Field(
        10000, gt=0, description="tsdae/mlm: at most this many corpus sentences (sampled), of at least 6 words."
    )
    pretrain_epochs: float = Field(1.0, gt=0, description="tsdae/mlm: passes over the sentences.")
    pretrain_learning_rate: float = Field(3e-5, gt=0, description="tsdae/mlm: learning rate.")
    deletion_ratio: float = Field(
        0.6, gt=0, lt=1, description="tsdae: share of words deleted from each input sentence (the paper's 0.6)."
    )
    mlm_probability: float = Field(0.15, gt=0, lt=1, description="mlm: share of tokens masked.")
    triplet_margin: float = Field(
        0.1, gt=0, lt=2, description="triplet: the cosine-distance margin the negative must stay behind the positive."
    )
    query_writer: str | None = Field(
        None, description="GPL-style synthetic queries: an LLM that writes a search query for corpus passages "
        "(smollm2-135m, gemma3-270m, a local causal-LM folder, or openai:MODEL for an OpenAI-compatible endpoint at "
        "$OPENAI_BASE_URL). Its pairs join the mined ones (rule 'synthetic'); queries are cached in the workspace."
    )
    synthetic_queries: int = Field(
        200, gt=0, description="query_writer: passages (sampled from the training documents) to write a query for."
    )
    pairs: str = Field(
        "corpus", description="'corpus' (pairs mined from the workspace corpus), a .jsonl file of "
        "query/positive(/negatives), or a BEIR folder with qrels/train.tsv."
    )
    rules: list[str] = Field(
        ["heading", "title", "inverse-cloze", "term-definition", "mastr-field"],
        description="Corpus mining rules to use (pairs: corpus).",
    )
    parallel_sources: list[str] = Field(
        ["tatoeba", "stsb"], description="Parallel DE–EN sources for distill-parallel: tatoeba, stsb, oeo."
    )
    english_sources: list[str] = Field(
        ["instructions", "responses", "oeo-definitions"], description="bridge: English-only text that also teaches the map (encoder → base on the "
        "same sentence): instructions (English requests and questions of the LLM demo sets), oeo-definitions "
        "(train classes)."
    )
    bridge_encoder: str = Field(
        "e5-small-trainable", description="bridge: the multilingual model that embeds queries the base does not "
        "speak."
    )
    bridge_ridge: float = Field(0.01, gt=0, description="bridge: ridge penalty of the least-squares map.")
    native_languages: list[str] = Field(
        ["en"], description="bridge: query languages the base answers itself (detected per query)."
    )
    eval: list[str] = Field(default_factory=list, description="Datasets evaluated before and after (held-out).")
    compare: list[str] = Field(
        ["bm25", "minilm", "use-multilingual", "e5-small"],
        description="Off-the-shelf models (and 'bm25') evaluated on the same sets for the table; 'hybrid' adds "
        "each model fused with BM25 (as `search --mode hybrid` fuses), the result's too.",
    )
    window_weight: float | None = Field(
        None, ge=0, le=1, description="Evaluation and hybrid calibration: score each document longer than a model's "
        "token limit from windows of that limit, (1 − w) · lead window + w · best window, instead of truncating it "
        "(every model of the table alike, each at its own limit). 0.5 lifted the held-out laws (docs/benchmarks.md, "
        "'Ninth round'); null truncates, as plain encoding does. The hybrid weight is still calibrated as search "
        "scores, one vector per chunk."
    )
    epochs: float = Field(1.0, gt=0, description="Passes over the training pairs.")
    max_steps: int | None = Field(None, gt=0, description="Stop after this many optimiser steps (overrides epochs).")
    batch_size: int = Field(32, gt=1, description="Pairs per batch; every other pair of the batch is a negative.")
    mini_batch_size: int = Field(16, gt=0, description="cached-mnrl: pairs per forward pass.")
    gradient_accumulation: int = Field(1, gt=0, description="Batches per optimiser step.")
    learning_rate: float | None = Field(None, gt=0, description="Default 2e-5 (full) or 1e-3 (adapter).")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of steps with a rising learning rate.")
    save_steps: int = Field(50, gt=0, description="Checkpoint every this many steps (a re-run resumes from the last).")
    max_seq_length: int | None = Field(256, gt=0, description="Token limit while training (full method).")
    freeze_embeddings: bool = Field(
        False, description="full/distill-parallel: keep the token embedding matrix fixed. For a large multilingual "
        "vocabulary (e5-small-trainable: 250k tokens, 80 % of its weights) this saves memory and optimiser time, and "
        "tokens absent from the training pairs cannot drift away from the ones present."
    )
    teacher: str | None = Field(
        None, description="distill-parallel: the model whose English embeddings the student learns (default: the "
        "base itself). A multilingual base (e5-small-trainable) with teacher minilm learns MiniLM's vector space for "
        "German and English text, so MiniLM's stored document vectors can answer German queries. margin-mse: the "
        "zoo model (any, inference-only ones included) whose cosine margins are the targets (default: the base)."
    )
    distill_english: bool = Field(
        True, description="distill-parallel: also map the English side onto the teacher (protects en→en); false "
        "trains on the German side only, about half the time per pair."
    )
    interpolate: float = Field(
        1.0, gt=0, le=1, description="full/distill-parallel: after training keep this share of the trained weights "
        "and the rest of the base's (weight averaging; below 1 trades some of the gain for the base's behaviour)."
    )
    hard_negatives: int = Field(
        0, ge=0, description="full: mine this many hard negatives per training pair from the corpus with the base "
        "model (sentence-transformers' mine_hard_negatives; corpus vectors cached in the workspace); 0: in-batch "
        "negatives only. A pair with too few candidates outside the margin is topped up with random passages."
    )
    negative_margin: float = Field(
        0.05, ge=0, lt=1, description="hard_negatives: a candidate scoring above (1 − margin) × the positive's score "
        "is skipped as a likely false negative (an unlabelled relevant passage)."
    )
    negative_candidates: int = Field(30, gt=1, description="hard_negatives: drawn from the model's top this many.")
    batches: Literal["random", "document"] = Field(
        "random", description="full (pairs): how training pairs form batches. random: any pairs of the corpus; "
        "document: each batch filled from one source document where it has enough pairs, so the other pairs' "
        "passages, every in-batch negative, are neighbours from the same document (harder, at no extra cost)."
    )
    matryoshka_dims: list[int] = Field([384, 256, 128, 64], description="matryoshka: dimensions trained.")
    max_pairs: int | None = Field(None, gt=0, description="Use at most this many training pairs (sampled).")
    heldout_fraction: float = Field(
        0.1, ge=0, lt=1, description="Share of documents whose pairs are held out of training (split by document)."
    )
    adapter_kind: Literal["linear", "mlp"] = Field("linear", description="adapter: identity-initialised linear map "
                                                   "or residual MLP.")
    adapter_rank: int | None = Field(None, gt=0, description="adapter: low-rank update of this rank (default full).")
    adapter_side: Literal["query", "both"] = Field(
        "both", description="adapter: transform both sides (measured better on held-out laws and OEO) or queries only "
        "(stored document vectors stay valid)."
    )
    adapter_epochs: int = Field(30, gt=0, description="adapter: passes over the cached vectors.")
    ensemble: list[str] = Field(
        default_factory=list, description="adapter or full: also fit an adapter on each of these frozen models with "
        "the same pairs (at the adapter defaults: learning rate 1e-3, adapter_epochs); the result is one model whose "
        "vectors concatenate all of them, the base (adapted or fully trained) first."
    )
    ensemble_weights: list[float] | Literal["auto"] | None = Field(
        None, description="Weight of each model's vectors in the ensemble, base first (default: equal). "
        "'auto': chosen on the held-out pairs. Adapters: the weighting in quarters with the best nDCG@10 if it beats "
        "equal by 0.02 — for labelled pairs of real queries (on mined pairs it chose wrong on both OEO and laws). "
        "Full: the trained base stays at 1 and each helper takes the best of 0, ¼ … 1 (docs/benchmarks.md)."
    )
    exclude_eval_documents: bool = Field(
        True, description="Drop mined or given training pairs whose positive text occurs in an evaluation set "
        "(mostly the same text, by 13-word windows), so a corpus that contains the test documents never trains on "
        "their answers."
    )
    temperature: float = Field(0.05, gt=0, description="adapter: InfoNCE temperature.")
    output: str | None = Field(None, description="Name of the result; registered so `--model NAME` finds it.")
    seed: int = Field(42, description="Random seed for sampling, splits and initialisation.")
    reranker: RerankerConfig | None = Field(
        None, description="Settings for `adaptlab finetune-reranker` (cross-encoder reranker), same fields as its flags."
    )

    @model_validator(mode="after")
    def _ensemble_fits_the_method(self) -> FinetuneConfig:
        if self.teacher and self.objective not in ("distill-parallel", "margin-mse"):
            raise ValueError("teacher: only distill-parallel and margin-mse learn from a teacher; set one of them "
                             "as the objective")
        if self.teacher and self.objective == "distill-parallel" and self.teacher != self.base and self.interpolate < 1:
            raise ValueError("interpolate: weight averaging needs the student and teacher to be the same model")
        if self.objective != "mnrl" and self.method == "adapter":
            raise ValueError("objective: adapters train with in-batch negatives; use objective: mnrl with "
                             "method: adapter")
        pairs_trained = self.method == "full" and self.objective in PAIR_OBJECTIVES
        if self.ensemble and not (self.method == "adapter" or pairs_trained):
            raise ValueError("ensemble: an ensemble joins adapters to an adapted or fully trained base; set method: "
                             "adapter, or method: full with a pair objective (mnrl, cached-mnrl, matryoshka, triplet, "
                             "margin-mse)")
        if self.hard_negatives and not pairs_trained:
            raise ValueError("hard_negatives: mined negatives train a full fine-tune with a pair objective (mnrl, "
                             "cached-mnrl, matryoshka, triplet, margin-mse); set method: full")
        if self.batches == "document" and not pairs_trained:
            raise ValueError("batches: document batches group the training pairs of a full fine-tune with mnrl, "
                             "cached-mnrl or matryoshka; set method: full or batches: random")
        if self.pretrain and not pairs_trained:
            raise ValueError("pretrain: tsdae/mlm pre-training runs before a pair objective of a full fine-tune; "
                             "for pre-training alone set objective: tsdae or objective: mlm")
        if self.objective in PRETRAINING and self.method != "full":
            raise ValueError(f"objective: {self.objective} trains every weight of the model; set method: full")
        if self.query_writer and self.pairs != "corpus":
            raise ValueError("query_writer: synthetic queries are written for corpus passages; set pairs: corpus")
        if self.method == "bridge" and self.bridge_encoder == self.base:
            raise ValueError("bridge_encoder: a bridge maps another model's queries into the base's space; "
                             "the bridge encoder must differ from the base")
        if isinstance(self.ensemble_weights, list) and len(self.ensemble_weights) != 1 + len(self.ensemble):
            raise ValueError(f"ensemble_weights: one weight for the base and each ensemble model "
                             f"({1 + len(self.ensemble)}), got {len(self.ensemble_weights)}")
        return self

    def resolved_learning_rate(self) -> float:
        return self.learning_rate or (2e-5 if self.method == "full" else 1e-3)
