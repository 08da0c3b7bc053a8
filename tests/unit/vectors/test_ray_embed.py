"""Ray embed without a cluster: the actor plan, the config section and the actor's encode call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adaptlab.config import RaySection, parse_config
from adaptlab.errors import ConfigError
from adaptlab.vectors.ray_embed import RayEncoder, actor_plan


def test_one_actor_per_gpu_when_the_cluster_has_gpus() -> None:
    assert actor_plan(RaySection(), {"CPU": 64.0, "GPU": 4.0}) == (4, 1.0, 1.0)
    assert actor_plan(RaySection(num_gpus=0.5), {"CPU": 64.0, "GPU": 2.0}) == (4, 1.0, 0.5)


def test_one_actor_per_cpu_slot_without_gpus_and_explicit_counts_win() -> None:
    assert actor_plan(RaySection(), {"CPU": 2.0}) == (2, 1.0, 0.0)
    assert actor_plan(RaySection(num_cpus=4), {"CPU": 16.0}) == (4, 4.0, 0.0)
    assert actor_plan(RaySection(num_cpus=4), {"CPU": 2.0}) == (1, 4.0, 0.0)
    assert actor_plan(RaySection(actors=3, num_gpus=0), {"CPU": 2.0, "GPU": 8.0}) == (3, 1.0, 0.0)


def test_embed_ray_config_section_validates() -> None:
    cfg = parse_config({"embed": {"ray": {"enabled": True, "address": "ray://head:10001", "actors": 8}}})
    assert cfg.embed.ray.enabled and cfg.embed.ray.address == "ray://head:10001" and cfg.embed.ray.actors == 8
    assert parse_config({}).embed.ray.enabled is False
    with pytest.raises(ConfigError, match="embed.ray.actors"):
        parse_config({"embed": {"ray": {"actors": 0}}})
    with pytest.raises(ConfigError, match="unknown key 'embed.ray.gpus'"):
        parse_config({"embed": {"ray": {"gpus": 1}}})


def test_actor_encodes_a_batch_like_the_model_and_keeps_row_indices(tmp_path: Path) -> None:
    from adaptlab.models.loading import load_embedder

    texts = ["Windenergie speist Strom ins Netz.", "The turbine rotor has three blades.", "kurz"]
    actor = RayEncoder(str(tmp_path), "minilm", batch_size=2)
    out = actor({"i": np.array([7, 3, 5]), "text": np.array(texts, dtype=object)})
    expected = load_embedder("minilm", tmp_path / "models").encode_documents(texts)
    assert out["i"].tolist() == [7, 3, 5]
    assert out["vector"].shape == (3, 384) and out["vector"].dtype == np.float32
    assert np.min(np.sum(out["vector"] * expected, axis=1)) > 0.999


class _FlakyRay:
    """Stands in for the ray module: the first `failures` local starts time out."""

    def __init__(self, failures: int) -> None:
        self.failures, self.inits, self.shutdowns = failures, 0, 0

    def is_initialized(self) -> bool:
        return False

    def init(self, address: str | None = None, **_: object) -> None:
        self.inits += 1
        if self.inits <= self.failures:
            raise TimeoutError("Timed out waiting for file gcs_server_port")

    def shutdown(self) -> None:
        self.shutdowns += 1


def test_a_local_start_that_times_out_is_tried_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from adaptlab.errors import AdaptlabError
    from adaptlab.vectors import ray_embed

    flaky = _FlakyRay(failures=1)
    monkeypatch.setattr(ray_embed, "_ray", lambda: flaky)
    assert ray_embed.init_ray(RaySection(local_cpus=2)) is True
    assert (flaky.inits, flaky.shutdowns) == (2, 1)

    broken = _FlakyRay(failures=ray_embed.LOCAL_START_ATTEMPTS)
    monkeypatch.setattr(ray_embed, "_ray", lambda: broken)
    with pytest.raises(AdaptlabError, match="cannot start Ray at a local Ray: Timed out"):
        ray_embed.init_ray(RaySection(local_cpus=2))

    remote = _FlakyRay(failures=1)  # a cluster the user named is not retried: its error is theirs to fix
    monkeypatch.setattr(ray_embed, "_ray", lambda: remote)
    with pytest.raises(AdaptlabError, match="cannot start Ray at ray://head:10001"):
        ray_embed.init_ray(RaySection(address="ray://head:10001"))
    assert remote.inits == 1
