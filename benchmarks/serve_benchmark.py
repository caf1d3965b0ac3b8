"""`namelang serve` under load, on loopback: requests/s, names/s, latency percentiles, server peak RSS.

    python benchmarks/serve_benchmark.py --archive PATH/names.zip [--seconds 20] [--clients 16] [--repeat 3]
        [--workers 1]

Starts `namelang serve --port 0` (a fresh server for each repeat), then runs two scenarios, each for
`--seconds` (and at most `--max-requests`) with `--clients` concurrent keep-alive connections:
"GET 1 name" (`GET /v1/predict?name=...`, a random surname from the shared archive each time) and
"POST 1,000 names" (400 bodies of 1,000 random archive surnames each). `--cache 0` turns the
server's cache of distinct names off, so every name is scored. The load generator is one asyncio
process speaking raw HTTP/1.1 (a light client, so that it takes as little of the CPU as it can from
the server it shares the machine with). Prints each run, then the medians over the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from namelang.measure import archive_names, archive_option, archive_or_exit

ROOT = Path(__file__).resolve().parents[1]
POST_NAMES = 1000


def get_requests(names: list[str], count: int, rng: random.Random) -> list[tuple[bytes, int]]:
    return [
        (f"GET /v1/predict?name={quote(rng.choice(names))} HTTP/1.1\r\nHost: bench\r\n\r\n".encode(), 1)
        for _ in range(count)
    ]


def post_requests(names: list[str], count: int, rng: random.Random) -> list[tuple[bytes, int]]:
    requests = []
    for _ in range(count):
        body = json.dumps({"names": rng.choices(names, k=POST_NAMES), "top_k": 3}).encode()
        head = "POST /v1/predict HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        requests.append((f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body, POST_NAMES))
    return requests


async def client(address, requests, deadline: float, budget: list[int], latencies: list[float], errors):
    reader, writer = await asyncio.open_connection(*address)
    i = 0
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            request, _ = requests[i % len(requests)]
            i += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                errors.append(head.split(b"\r\n", 1)[0].decode())
    finally:
        writer.close()


async def load(address, requests, clients: int, seconds: float, max_requests: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    budget = [max_requests]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(client(address, requests, deadline, budget, latencies, errors) for _ in range(clients))
    )
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "req_per_s": len(latencies) / wall,
        "names_per_s": len(latencies) * requests[0][1] / wall,
        "p50_ms": cuts[49] * 1e3,
        "p95_ms": cuts[94] * 1e3,
        "p99_ms": cuts[98] * 1e3,
    }


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of the server and its worker processes (VmHWM, summed)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def start_server(args):
    command = [sys.executable, "-m", "namelang", "serve", "--port", "0", "--model", args.model]
    command += ["--workers", str(args.workers), "--home", str(ROOT / "no-such-home")]
    if args.cache is not None:
        command += ["--cache", str(args.cache)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        if line.startswith("listening on "):
            url = urlsplit(line.split()[2])
            return process, (url.hostname, url.port)
    raise SystemExit(f"the server did not start (exit {process.wait()})")


async def wait_ready(address, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(*address)
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            ok = (await reader.read()).startswith(b"HTTP/1.1 200")
            writer.close()
            if ok:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the server never became ready")


def one_run(args, scenarios) -> list[dict]:
    process, address = start_server(args)
    try:
        asyncio.run(wait_ready(address))
        results = []
        for label, requests in scenarios:
            row = asyncio.run(load(address, requests, args.clients, args.seconds, args.max_requests))
            results.append({"scenario": label, **row, "server_peak_rss_mb": peak_rss_mb(process.pid)})
        return results
    finally:
        process.terminate()
        process.wait(60)


COLUMNS = [
    "requests",
    "errors",
    "req_per_s",
    "names_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "server_peak_rss_mb",
]


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}\n")
    print("| scenario | " + " | ".join(COLUMNS) + " |")
    print("| --- |" + " ---: |" * len(COLUMNS))
    for row in rows:
        cells = [f"{row[c]:,.0f}" if row[c] >= 100 else f"{row[c]:.1f}" for c in COLUMNS]
        print(f"| {row['scenario']} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    archive_option(parser)
    parser.add_argument("--model", default="pretrained")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cache", type=int, help="the server's --cache (distinct names kept; 0: none)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="per scenario, a bound beside --seconds"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["get", "post"], help="run one scenario")
    args = parser.parse_args()
    archive = archive_or_exit(parser, args.archive)

    names = archive_names(archive, distinct=False)  # as listed: a name is drawn as often as it stands
    rng = random.Random(0)
    scenarios = [
        ("GET 1 name", get_requests(names, 20_000, rng)),
        ("POST 1,000 names", post_requests(names, 400, rng)),
    ]
    if args.only:
        scenarios = [scenarios[0] if args.only == "get" else scenarios[1]]
    setup = f"workers={args.workers}, clients={args.clients}, cache={'default' if args.cache is None else args.cache}"
    runs = []
    for i in range(args.repeat):
        load_before = os.getloadavg()[0]
        rows = one_run(args, scenarios)
        load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
        print_table(
            f"run {i + 1} of {args.repeat} (workers={args.workers}, clients={args.clients}; {load})", rows
        )
        runs.append(rows)
    medians = [
        {"scenario": rows[0]["scenario"], **{c: statistics.median(r[c] for r in rows) for c in COLUMNS}}
        for rows in zip(*runs)
    ]
    print_table(f"median of {args.repeat} runs ({setup})", medians)


if __name__ == "__main__":
    main()
