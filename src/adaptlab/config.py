"""The experiment config: one pydantic model per YAML section; unknown keys are errors.

`${data}` in a path stands for the shared datasets folder (../shared/data or $ADAPTLAB_DATA), so
configs run unchanged on any machine that has the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adaptlab.corpus.language import DEFAULT_LANGUAGES
from adaptlab.errors import ConfigError
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


class TrackingSection(Section):
    uri: str | None = Field(None, description="MLflow tracking URI ('none' disables).")
    experiment: str = "adaptlab"


class ExperimentConfig(Section):
    """A whole run: ingest → embed (each model) → evaluate → example searches."""

    name: str = "experiment"
    workspace: str | None = None
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    chunking: ChunkingSection = Field(default_factory=ChunkingSection)
    models: list[str] = Field(["minilm"], min_length=1)
    embed: EmbedSection = Field(default_factory=EmbedSection)
    vectors: VectorsSection = Field(default_factory=VectorsSection)
    eval: EvalSection = Field(default_factory=EvalSection)
    search: SearchSection = Field(default_factory=SearchSection)
    tracking: TrackingSection = Field(default_factory=TrackingSection)
    finetune: FinetuneConfig | None = Field(None, description="Optional fine-tuning stage (adaptlab finetune).")

    @field_validator("models")
    @classmethod
    def _unique(cls, models: list[str]) -> list[str]:
        return list(dict.fromkeys(models))


def _describe(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key '{where}'"
    return f"'{where}': {error['msg']}"


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
