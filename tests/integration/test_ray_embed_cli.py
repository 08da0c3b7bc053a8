"""`adaptlab embed --ray` on a local 2-CPU Ray: actors encode, the CLI writes Milvus, resume still holds.

One Ray start (the slow part): the workspace is embedded in-process (the reference vectors), half its
vectors are then lost (as after a kill), and the Ray run must re-embed exactly that half, matching the
single-process vectors to cosine >= 0.999; a second run has nothing left to do (and starts no Ray).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from milvus_lite.server_manager import server_manager_instance

import adaptlab
from adaptlab.config import RaySection
from adaptlab.vectors.ray_embed import embed_ray
from conftest import run_cli

pytest.importorskip("ray.data", reason="Ray is not installed: pip install -e '.[scale]'")
pytestmark = pytest.mark.slow


def _vectors(session, collection: str) -> dict[str, np.ndarray]:
    session.vectors.client.load_collection(collection)  # written by another process: starts released
    rows = session.vectors.client.query(collection, filter='id != ""', output_fields=["id", "vector"])
    return {r["id"]: np.asarray(r["vector"], dtype=np.float32) for r in rows}


def test_ray_embed_matches_single_process_and_resumes(docs_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "ray.yaml"
    config.write_text("embed: {block_size: 4, ray: {local_cpus: 2}}\n", encoding="utf-8")
    with adaptlab.open_session(str(tmp_path / "b"), tracking_uri="none") as b:
        b.ingest([docs_dir])
        b.embed("minilm")  # the single-process path: the reference vectors
        collection = b.collection("minilm")
        reference = _vectors(b, collection)
        lost = sorted(reference)[::2]
        b.vectors.delete(collection, lost)  # written blocks that never reached Milvus
        b.vectors.flush(collection)
    # Milvus Lite serves one process per data folder: hand B's folder over to the CLI process
    server_manager_instance.release_server(str((tmp_path / "b" / "milvus.db").resolve()))
    assert len(reference) >= 12

    args = (
        "embed",
        "--ray",
        "--ray-actors",
        "2",
        "--config",
        str(config),
        "--tracking-uri",
        "none",
        "--json",
    )
    first = run_cli(*args, "--workspace", str(tmp_path / "b"))
    if "cannot start Ray at a local Ray: Timed out waiting for file" in first.stderr:
        # seen only late in the full suite on one host (twice in a row, with the retry); alone it passes
        pytest.skip("Ray's local GCS server did not start here (timed out twice): " + first.stderr[-300:])
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout)[0]
    assert "ray: 2 encoder actor(s)" in first.stderr
    assert report["embedded_now"] == len(lost) and report["vectors_in_collection"] == len(reference)

    with adaptlab.open_session(str(tmp_path / "b"), tracking_uri="none") as b:
        got = _vectors(b, collection)
        again = embed_ray(b, "minilm", RaySection(local_cpus=2))
    assert again.embedded_now == 0 and again.vectors_in_collection == len(reference)  # nothing left to do
    assert set(got) == set(reference)
    cosines = [float(np.dot(got[c], reference[c])) for c in lost]
    print(f"min cosine ray vs single-process over {len(lost)} chunks: {min(cosines):.6f}")
    assert min(cosines) >= 0.999
