"""all-MiniLM-L6-v2 as an int8 ONNX graph on onnxruntime: no torch at inference time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.models.base import Embedder, l2_normalize


class OnnxMiniLMEmbedder(Embedder):
    """Tokenize with the MiniLM tokenizer.json, run the graph, mean-pool over the attention mask.

    That reproduces sentence-transformers' MiniLM pipeline (truncate at 256, mean pooling, L2).
    Texts are sorted by length before batching so a batch pads to similar lengths.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        name: str = "minilm-onnx-int8",
        max_seq_length: int = 256,
        num_threads: int | None = None,
        pooling: str = "mean",
        normalize: bool = True,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = num_threads
        self.session: Any = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer: Any = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch
        self._counter: Any = Tokenizer.from_file(str(tokenizer_path))
        self._counter.no_truncation()
        self._counter.no_padding()
        self.name = name
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self.max_seq_length = max_seq_length
        self.pooling = pooling
        self.normalize = normalize

    @classmethod
    def from_folder(
        cls, folder: Path, name: str | None = None, num_threads: int | None = None
    ) -> OnnxMiniLMEmbedder:
        """A folder written by `adaptlab compress model` (model.onnx, tokenizer.json, adaptlab_onnx.json)."""
        from adaptlab.compress.onnx_export import MODEL_FILE, read_manifest

        folder = Path(folder)
        manifest = read_manifest(folder)
        return cls(
            folder / MODEL_FILE,
            folder / "tokenizer.json",
            name=name or str(folder),
            max_seq_length=manifest.max_seq_length,
            num_threads=num_threads,
            pooling=manifest.pooling,
            normalize=manifest.normalize,
        )

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feeds)[0]
        if self.pooling == "cls":
            return hidden[:, 0]
        weights = mask[..., None].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        return summed / np.clip(weights.sum(axis=1), 1e-9, None)

    def encode_documents(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        size = max(1, int(batch_size))
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return l2_normalize(out) if self.normalize else out

    def count_tokens(self, texts: Sequence[str]) -> list[int] | None:
        return [len(e.ids) for e in self._counter.encode_batch(list(texts))]
