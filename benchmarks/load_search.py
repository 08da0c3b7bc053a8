"""Load test of `/search` on a running `adaptlab serve`: latency percentiles, errors and throughput.

Loopback only and bounded: it refuses any host but 127.0.0.1/::1/localhost, sends exactly --requests
requests (default 10,000) from --concurrency workers (default 32), and stops at --max-seconds whatever
is left. Queries cycle through a fixed list of German and English energy-law questions, varied by a
request number so that no layer can answer from a cache of a handful of strings.

The requests go over keep-alive HTTP/1.1 connections written with asyncio streams, one per worker:
a general client (httpx) costs ~4 ms of CPU per request, which on a 2-core machine shared with the
server would measure the client more than the server.

    adaptlab serve --workspace WS --model minilm &
    python benchmarks/load_search.py --requests 2000 --mode dense

Writes docs/results/load_search_<mode>.json: p50/p95/p99/max latency (ms, client side), server errors
(5xx), client errors (4xx), transport failures, requests per second, and the server's /health.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
QUERIES = [
    "Wer muss Anlagen an das Netz anschließen?",
    "Vergütung für Strom aus Windenergieanlagen",
    "Pflichten der Netzbetreiber",
    "Genehmigung von Anlagen nach dem Bundes-Immissionsschutzgesetz",
    "Einspeisevorrang für erneuerbare Energien",
    "Marktprämie Direktvermarktung",
    "grid connection obligations for renewable energy plants",
    "Wärmeplanung der Gemeinden",
    "Ausschreibung Solaranlagen Höchstwert",
    "energy efficiency obligations",
    "Bußgeldvorschriften Ordnungswidrigkeiten",
    "Begriffsbestimmungen Speicher",
    "Umweltverträglichkeitsprüfung Schwellenwerte",
    "Kraft-Wärme-Kopplung Zuschlag",
    "Emissionshandel Berichtspflicht",
    "who regulates network tariffs",
]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, target: str) -> int:
    """One GET on a keep-alive connection; returns the status after reading the whole body."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), None)
    if length is None:
        raise ConnectionError("response without Content-Length")
    await reader.readexactly(length)
    return status


async def run_load(host: str, port: int, requests: int, concurrency: int, mode: str, k: int,
                   max_seconds: float) -> dict[str, Any]:
    """Send the requests; one latency per completed request, failures counted by kind."""
    latencies: list[float] = []
    counts = {"ok": 0, "server_errors": 0, "client_errors": 0, "transport_errors": 0}
    next_id = 0
    deadline = time.perf_counter() + max_seconds

    async def worker() -> None:
        nonlocal next_id
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_id < requests and time.perf_counter() < deadline:
                n = next_id
                next_id += 1
                query = f"{QUERIES[n % len(QUERIES)]} {n // len(QUERIES)}"
                target = "/search?" + urlencode({"query": query, "k": k, "mode": mode})
                start = time.perf_counter()
                try:
                    status = await asyncio.wait_for(get(reader, writer, host, target), 30)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                    counts["transport_errors"] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                latencies.append((time.perf_counter() - start) * 1000)
                kind = "server_errors" if status >= 500 else "client_errors" if status >= 400 else "ok"
                counts[kind] += 1
        finally:
            writer.close()

    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        health = client.get("/health").json()
        client.get("/search", params={"query": "warm-up", "k": k, "mode": mode})
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    done = sorted(latencies)
    return {
        "requests_sent": next_id,
        **counts,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(done) / elapsed, 1) if elapsed else 0.0,
        "latency_ms": {
            "p50": round(percentile(done, 50), 2), "p95": round(percentile(done, 95), 2),
            "p99": round(percentile(done, 99), 2), "max": round(done[-1], 2) if done else None,
            "mean": round(statistics.fmean(done), 2) if done else None,
        },
        "corpus": health.get("corpus"),
        "models": health.get("models"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--mode", default="dense", choices=["dense", "bm25", "hybrid"])
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--label", default="", help="suffix of the result file, e.g. the server's setup")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop sending after this long")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "results")
    args = parser.parse_args()
    if args.host not in LOOPBACK:
        parser.error(f"loopback only: --host must be one of {', '.join(sorted(LOOPBACK))}")
    load_before = os.getloadavg()[0]  # other work on the machine: the numbers mean little without it
    result = asyncio.run(run_load(args.host, args.port, args.requests, args.concurrency, args.mode, args.k,
                                  args.max_seconds))
    report = {
        "benchmark": "load_search",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average_1m_before": round(load_before, 2),
                    "platform": platform.platform(), "python": platform.python_version()},
        "params": {"requests": args.requests, "concurrency": args.concurrency, "mode": args.mode, "k": args.k,
                   "label": args.label},
        **result,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"load_search_{args.mode}{'_' + args.label if args.label else ''}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("params", "requests_per_s", "latency_ms", "server_errors",
                                              "client_errors", "transport_errors")}, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
