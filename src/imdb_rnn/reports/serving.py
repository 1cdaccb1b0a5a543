"""The serving benchmark: `imdb-rnn serve` under load on the loopback, with and without batching.

    raw = benchmark_serving("outputs/lstm-20261202-074208", reviews)   # reviews: raw texts to send
    print(serving_table(raw))

For each way — without batching (`--max-batch-size 1`: every request predicted alone) and with it (the
server's defaults: at most 64 reviews a batch, no wait) — a server is started in a child process on a free loopback port,
warmed up, then asked by 1, 8 and 64 concurrent clients (aiohttp) in turn: each client sends one review a request
(`{"instances": [review]}`), the next as soon as the answer is back, until `requests` requests were
sent or `seconds` passed. Every request's latency is kept (send to answer, on the client), with the
count of failed ones (any answer but 200, or none) and the batches the server made (its
`GET /v1/models` counters). Then, on the batching server, its resident memory (psutil) before and
after `memory_requests` more requests at 64 clients. Clients and server share the machine's cores: the
client (one asyncio loop) takes its part of them. Loopback only; no request leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from imdb_rnn.errors import DataError, RunError

LEVELS = (1, 8, 64)  # concurrent clients
WAYS = {"unbatched": ["--max-batch-size", "1"], "batched": []}  # `imdb-rnn serve` options of each way
WARM_UP = 128  # requests at 8 clients before a way is timed
STARTUP = 600  # seconds a server may take to start
STATISTIC = "requests per second: requests answered / wall seconds of the level; latency percentiles over every request of the level"


def training_texts(run: str | Path, count: int = 2000, seed: int = 0) -> list[str]:
    """`count` training reviews of the run's IMDB data (aclImdb, found as training finds it), drawn with
    `seed`: what the benchmark sends. A `DataError` when only the pre-encoded `imdb.npz` (no text) is there."""
    from imdb_rnn.data.aclimdb import training_reviews
    from imdb_rnn.data.sources import locate
    from imdb_rnn.runs.run import Run

    data = Run(run).config.data
    location = locate(data) if data.source in ("auto", "aclimdb") else None
    if location is None or location.source != "aclimdb" or location.path is None:
        raise DataError(
            f"{run}: the serving benchmark sends IMDB training reviews: expected the aclImdb archive or folder "
            "(IMDB_DATA_DIR or data.path), received none (or a run of other data)."
        )
    texts = [text for _, _, text in training_reviews(location.path)]
    picked = np.random.default_rng(seed).choice(len(texts), size=min(count, len(texts)), replace=False)
    return [texts[index] for index in picked]


def benchmark_serving(
    run: str | Path,
    reviews: Sequence[str],
    requests: int = 1000,
    seconds: float = 60.0,
    memory_requests: int = 10_000,
    levels: Sequence[int] = LEVELS,
) -> dict[str, Any]:
    """Every way at every level of `levels` clients, at most `requests` requests or `seconds` a level,
    reviews taken in turn from `reviews`; then the batching server's memory over `memory_requests`."""
    results, memory = [], None
    for way, options in WAYS.items():
        with served(run, options) as server:
            asyncio.run(load(server.url, reviews, clients=8, requests=WARM_UP, seconds=seconds))
            for clients in levels:
                before = server.counters()
                level = asyncio.run(load(server.url, reviews, clients, requests, seconds))
                after = server.counters()
                batches = after["batches"] - before["batches"]
                level.update(way=way, mean_batch=round((after["texts"] - before["texts"]) / max(batches, 1), 2))
                results.append({**level, "batches": batches})
                print(f"  {way}, {clients} clients: {summary(level)}", flush=True)
            if way == "batched" and memory_requests:
                rss_before = server.resident_bytes()
                level = asyncio.run(load(server.url, reviews, 64, memory_requests, seconds=float("inf")))
                rss_after = server.resident_bytes()
                memory = {
                    "requests": memory_requests,
                    "clients": 64,
                    "failed": level["failed"],
                    "requests_per_second": level["requests_per_second"],
                    "resident_bytes_before": rss_before,
                    "resident_bytes_after": rss_after,
                    "growth": round(rss_after / rss_before - 1, 4),
                }
                print(f"  memory: {rss_before / 2**20:.0f} MiB before, {rss_after / 2**20:.0f} MiB after", flush=True)
            exit_code = server.stop()
            if exit_code != 0:
                raise RunError(f"the {way} server exited with status {exit_code} on SIGTERM (expected 0).")
    return {"levels": results, "memory": memory}


async def load(url: str, reviews: Sequence[str], clients: int, requests: int, seconds: float) -> dict[str, Any]:
    """`clients` clients sending single-review requests back to back until `requests` were sent or
    `seconds` passed; every latency (milliseconds) and the count of failed requests. The clients are
    aiohttp's: httpx's asynchronous client answered 45 requests/s at 64 connections on this machine,
    where aiohttp's answered 1,200 (`/healthz`), so it would have timed itself."""
    import aiohttp

    latencies: list[float] = []
    failures: list[str] = []
    sent = 0
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def one_client() -> None:
            nonlocal sent
            while sent < requests and time.perf_counter() - started < seconds:
                review = reviews[sent % len(reviews)]
                sent += 1
                begun = time.perf_counter()
                try:
                    async with session.post("/v1/models/served:predict", json={"instances": [review]}) as response:
                        answer = await response.json()
                        if response.status != 200 or len(answer["predictions"]) != 1:
                            failures.append(f"{response.status}: {answer.get('error', '')}")
                except (aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
                    failures.append(f"{type(error).__name__}: {error}")
                latencies.append((time.perf_counter() - begun) * 1000)

        await asyncio.gather(*(one_client() for _ in range(clients)))
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "failed": len(failures),
        "failures": sorted(set(failures))[:10],
        "seconds": round(wall, 3),
        "requests_per_second": round(len(latencies) / wall, 2),
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2),
            "p99": round(float(np.percentile(latencies, 99)), 2),
            "mean": round(float(np.mean(latencies)), 2),
            "max": round(float(np.max(latencies)), 2),
        },
        "latencies_ms": [round(value, 3) for value in latencies],
    }


def summary(level: dict[str, Any]) -> str:
    latency = level["latency_ms"]
    return (
        f"{level['requests']} requests, {level['requests_per_second']:.1f}/s, p50 {latency['p50']:.0f} ms, "
        f"p99 {latency['p99']:.0f} ms, {level['failed']} failed"
    )


class _Server:
    """A child `imdb-rnn serve` process, its URL and its counters."""

    def __init__(self, process: subprocess.Popen, url: str) -> None:
        self.process, self.url = process, url

    def counters(self) -> dict[str, int]:
        with urllib.request.urlopen(f"{self.url}/v1/models", timeout=60) as answer:
            (model,) = json.load(answer)["models"]
        return model["batching"]

    def resident_bytes(self) -> int:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self) -> int:
        self.process.terminate()  # SIGTERM: the server finishes what is in flight and exits 0
        return self.process.wait(timeout=STARTUP)


@contextmanager
def served(run: str | Path, options: list[str]) -> Iterator[_Server]:
    """`imdb-rnn serve RUN --name served --port 0 OPTIONS` on the loopback, until the block ends."""
    command = [sys.executable, "-m", "imdb_rnn", "serve", str(run), "--name", "served", "--port", "0", *options]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        url = _listening(process, lines)
        yield _Server(process, url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _listening(process: subprocess.Popen, lines: queue.Queue[str]) -> str:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline and process.poll() is None:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        found = re.search(r"Listening on (http://\S+)", line)
        if found:
            return found.group(1)
    raise RunError(f"the server did not start within {STARTUP} s (exit status {process.poll()}).")


def serving_table(raw: dict[str, Any]) -> str:
    """Markdown: one row a way and level, and the memory line."""
    rows = [
        "| way | clients | requests | failed | requests/s | p50 ms | p99 ms | batches | reviews a batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in raw["levels"]:
        latency = level["latency_ms"]
        rows.append(
            f"| {level['way']} | {level['clients']} | {level['requests']:,} | {level['failed']} | "
            f"{level['requests_per_second']:.1f} | {latency['p50']:.1f} | {latency['p99']:.1f} | "
            f"{level['batches']:,} | {level['mean_batch']:.1f} |"
        )
    memory = raw.get("memory")
    if memory:
        rows.append("")
        rows.append(
            f"Resident memory of the batching server: {memory['resident_bytes_before'] / 2**20:.1f} MiB before "
            f"{memory['requests']:,} more requests at {memory['clients']} clients, "
            f"{memory['resident_bytes_after'] / 2**20:.1f} MiB after ({memory['growth']:+.2%}); "
            f"{memory['failed']} failed, {memory['requests_per_second']:.1f} requests/s."
        )
    return "\n".join(rows)
