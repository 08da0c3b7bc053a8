"""The experiment config: one pydantic model per YAML section; unknown keys are errors.

`${data}` in a path stands for the shared datasets folder (../shared/data or $ADAPTLAB_DATA), so
configs run unchanged on any machine that has the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adaptlab.corpus.language import DEFAULT_LANGUAGES
from adaptlab.errors import AdaptlabError, ConfigError
from adaptlab.train.finetune_config import FinetuneConfig


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CorpusConfig(Section):
    name: str = Field("corpus", description="Corpus name; part of every Milvus collection name.")
    paths: list[str] = Field(default_factory=list, description="Files or folders to ingest.")
    text_fields: list[str] = Field(["text", "content", "body"], description="json/jsonl/csv: text field(s).")
    title_field: str | None = Field("title", description="json/jsonl/csv: title field.")
    id_field: str | None = Field("id", description="json/jsonl/csv: record id field.")
    metadata_fields: list[str] | None = Field(None, description="Metadata fields to keep (default: all).")
    max_file_mb: float = Field(100.0, gt=0, description="Files larger than this are skipped.")
    languages: list[str] = Field(list(DEFAULT_LANGUAGES), description="Languages the detector may answer.")
    prune: bool = Field(False, description="Remove documents whose files are gone.")
    workers: int | None = Field(None, gt=0, description="Processes preparing files (default: one per CPU).")
    ocr_languages: str = Field("deu+eng", description="Tesseract languages for images and scanned PDF pages.")
    ocr_min_confidence: float | None = Field(
        None,
        ge=0,
        le=100,
        description="OCR quality gate: pages below this mean word confidence are held back "
        "(default: $ADAPTLAB_OCR_MIN_CONFIDENCE, else 70).",
    )


class ChunkingSection(Section):
    unit: Literal["words", "tokens"] = Field("words", description="Measure chunks in words or model tokens.")
    size: int | None = Field(None, gt=0, description="Chunk size (default: 500 words, or the model's max tokens).")
    overlap: int = Field(20, ge=0, description="Overlap carried into the next chunk, in units.")
    model: str | None = Field(None, description="Model whose tokenizer measures token chunks.")


class RaySection(Section):
    """Encode on a Ray cluster: actors hold the model, the driver writes to Milvus (see docs/scale.md)."""

    enabled: bool = Field(False, description="Encode with Ray actors instead of in this process.")
    address: str | None = Field(None, description="Cluster address ('auto', 'ray://head:10001'); default a local Ray.")
    actors: int | None = Field(None, gt=0, description="Encoder actors (default: one per GPU, else one per CPU slot).")
    num_cpus: float = Field(1.0, gt=0, description="CPUs reserved per actor (its torch threads).")
    num_gpus: float | None = Field(None, ge=0, description="GPUs per actor (default: 1 when the cluster has GPUs).")
    local_cpus: int | None = Field(None, gt=0, description="CPUs a local Ray may use (default: all).")


class EmbedSection(Section):
    batch_size: int = Field(32, gt=0, description="Texts per forward pass.")
    block_size: int = Field(512, gt=0, description="Chunks per write to Milvus (the resume granularity).")
    ray: RaySection = Field(default_factory=RaySection, description="Distributed encoding with Ray.")


class VectorsSection(Section):
    uri: str | None = Field(None, description="Milvus URI; default a Milvus Lite folder in the workspace.")
    token_env: str = Field("MILVUS_TOKEN", description="Environment variable holding the Milvus token.")
    index_type: Literal["FLAT", "IVF_FLAT", "IVF_SQ8", "HNSW", "HNSW_SQ", "AUTOINDEX"] = "HNSW"
    metric: Literal["COSINE", "IP", "L2"] = "COSINE"
    params: dict[str, Any] = Field(default_factory=lambda: {"M": 16, "efConstruction": 200})
    search_params: dict[str, Any] = Field(default_factory=lambda: {"ef": 128})


class EvalSection(Section):
    datasets: list[str] = Field(
        default_factory=list, description="BEIR folders, or 'xquad' for the four XQuAD sets."
    )
    k: int = Field(100, gt=0, description="Depth of the ranking that metrics see.")


class SearchSection(Section):
    queries: list[str] = Field(default_factory=list, description="Example searches to show.")
    k: int = Field(3, gt=0)
    filter: str | None = None
    hybrid_candidates: int = Field(
        30, gt=0, description="Hits taken from BM25 and from the dense index per query before hybrid fusion "
        "(30 keeps nDCG@10 within 0.01 of 100 on XQuAD and the laws at a fraction of the latency).",
    )
    in_memory: bool = Field(
        False, description="Answer unfiltered dense searches from an in-process copy of the collection "
        "(no Milvus round trip; reloaded after this process ingests or embeds). For serving, when no other "
        "process writes the collection.",
    )
    query_encoders: dict[str, str] = Field(
        default_factory=dict,
        description="Per model, a faster encoder for queries in the same vector space: 'auto' (bf16 on a CPU "
        "with bfloat16 units, else onnx-int8), 'bf16' (the model's "
        "own weights in bfloat16, queries packed without padding; fastest on CPUs with AMX or AVX512-BF16), "
        "'onnx-int8' (the model's own fused int8 ONNX export, made once into the model cache), an exported "
        "folder or a zoo name (e.g. minilm-onnx-int8); the collection keeps the model's own document vectors.",
    )


class TrackingSection(Section):
    uri: str | None = Field(None, description="MLflow tracking URI ('none' disables).")
    experiment: str = "adaptlab"


class FeaturesSection(Section):
    """The Feast feature store (`adaptlab features apply|materialize|get`) and what /search reads from it."""

    online: str = Field(
        "sqlite", description="Online store: 'sqlite' (a file in the workspace) or a Redis URL, redis://127.0.0.1:6379/0."
    )
    popularity_boost: float = Field(
        0.0, ge=0, description="/search: add this × ln(1 + the document's clicks) to each hit's score (0: off)."
    )
    min_rating: float | None = Field(
        None, ge=1, le=5, description="/search: drop hits whose document's mean rating is below this (unrated stay)."
    )

    @field_validator("online")
    @classmethod
    def _online(cls, value: str) -> str:
        from adaptlab.features.online import parse_online

        try:
            parse_online(value)
        except AdaptlabError as exc:
            raise ValueError(str(exc).removeprefix("features.online ")) from None
        return value

    @property
    def reads_online(self) -> bool:
        """Whether /search needs online features at all."""
        return self.popularity_boost > 0 or self.min_rating is not None


class DriftSection(Section):
    window: int = Field(0, ge=0, description="Test every N queries for drift against the reference window (0: off).")
    model: str = Field("minilm", description="Fixed embedding model for drift tests (independent of the served one).")
    alpha: float = Field(0.01, gt=0, lt=1, description="Alert when a window's permutation p-value is below this.")


class ServeSection(Section):
    """`adaptlab serve` settings; a command-line flag overrides its key here."""

    host: str = Field("127.0.0.1", description="Interface to bind; 127.0.0.1 keeps it on this machine.")
    port: int = Field(8000, gt=0, lt=65536, description="TCP port.")
    models: list[str] = Field(["minilm"], min_length=1, description="Models to serve without a registry alias.")
    generator: str = Field("extractive", description="Who writes /rag answers: extractive, smollm2-135m, gemma3-270m or auto.")
    token_env: str = Field("ADAPTLAB_API_TOKEN", description="Environment variable with the /documents token.")
    model_alias: str | None = Field(None, description="Serve the registry version this alias points at (champion).")
    registry_name: str = Field("embedder", description="Registered model served with model_alias.")
    challenger_share: float = Field(0.0, ge=0, le=1, description="A/B: share of sessions the challenger answers.")
    session_header: str = Field(
        "X-Session-Id", min_length=1, description="Header whose value is the sticky A/B key (or `session` in the body)."
    )
    poll_seconds: float = Field(2.0, gt=0, description="How often to check the registry's aliases.")
    drift: DriftSection = Field(default_factory=DriftSection, description="Query drift detection.")
    query_process: Literal["auto", "on", "off"] = Field(
        "auto", description="Encode each served model's queries in a child process with its own GIL, so a "
        "PyTorch encoder does not stall the HTTP thread (see serve/query_process.py); auto: on for models whose "
        "search.query_encoders entry is (or resolves to) bf16.",
    )


class ExperimentConfig(Section):
    """A whole run: ingest → embed (each model) → evaluate → fine-tune → example searches."""

    name: str = "experiment"
    workspace: str | None = None
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    chunking: ChunkingSection = Field(default_factory=ChunkingSection)
    models: list[str] = Field(["minilm"], description="Models to embed the corpus with ([] only with a finetune: "
                              "section, which embeds what it needs itself).")
    embed: EmbedSection = Field(default_factory=EmbedSection)
    vectors: VectorsSection = Field(default_factory=VectorsSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    search: SearchSection = Field(default_factory=SearchSection)
    tracking: TrackingSection = Field(default_factory=TrackingSection)
    finetune: FinetuneConfig | None = Field(None, description="Optional fine-tuning stage (adaptlab finetune).")
    features: FeaturesSection = Field(default_factory=FeaturesSection, description="Feature store (Feast).")
    serve: ServeSection = Field(default_factory=ServeSection, description="adaptlab serve: A/B, drift, features.")

    @field_validator("models")
    @classmethod
    def _unique(cls, models: list[str]) -> list[str]:
        return list(dict.fromkeys(models))

    @model_validator(mode="after")
    def _something_to_run(self) -> ExperimentConfig:
        if not self.models and self.finetune is None:
            raise ValueError("models: name at least one model to embed with (or add a finetune: section)")
        return self


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"unknown key '{where}'"
    message = str(error["msg"]).removeprefix("Value error, ")  # our own validators already name the key
    return f"'{where}': {message}" if where else message


def parse_config(data: Any, origin: str = "config") -> ExperimentConfig:
    """Validate a dict; every problem is named by its key path in one line."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping of sections at the top level")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{origin}: {problems}") from None


def load_config(path: Path) -> ExperimentConfig:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_config(data or {}, origin=str(path))


def expand_path(value: str) -> Path:
    """Resolve `${data}` to the shared datasets folder and `~`; the error says where data comes from."""
    if "${data}" in value:
        from adaptlab.datasets import data_root

        root = data_root(required=True)
        value = value.replace("${data}", str(root))
    return Path(value).expanduser()
