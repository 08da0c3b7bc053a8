"""Where a run keeps its state: corpus DB, vectors, MLflow store and model cache live under one folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = ".adaptlab"
WORKSPACE_ENV = "ADAPTLAB_WORKSPACE"


@dataclass(frozen=True)
class Workspace:
    """Paths of everything a workspace holds; creating the object creates the folder."""

    root: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """Explicit path, else $ADAPTLAB_WORKSPACE, else ./.adaptlab."""
        chosen = path or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE
        root = Path(chosen).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    @property
    def corpus_db(self) -> Path:
        return self.root / "corpus.sqlite"

    @property
    def milvus_uri(self) -> str:
        """Milvus Lite keeps its data in a local directory named like a file."""
        return str(self.root / "milvus.db")

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.sqlite'}"

    @property
    def artifacts_dir(self) -> Path:
        return self.root / "mlartifacts"

    @property
    def model_cache(self) -> Path:
        path = self.root / "models"
        path.mkdir(exist_ok=True)
        return path

    @property
    def vector_cache(self) -> Path:
        """Embeddings cached by model and text hash, shared by compress, finetune and their evaluations."""
        return self.root / "cache" / "vectors"

    @property
    def results_dir(self) -> Path:
        path = self.root / "results"
        path.mkdir(exist_ok=True)
        return path
