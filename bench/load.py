"""Bounded load test of the HTTP API on loopback with a realistic mix of requests.

Run as ``python -m bench.load [--store sqlite|postgis] [--clients 16] [--seconds 20]``. The API runs under
uvicorn (one worker, a child process) over a store holding the sample city of ``data/boundaries/``; a
pool of asyncio/httpx clients replays what planners do all day:

- ``map``: a map page's data: every community of the visible 1 km box (``/collections/communities/items?bbox=``);
- ``buildings``: buildings of a 300 m box (``/collections/buildings/items?bbox=&limit=1000``);
- ``item``: one community, as an editor opening it;
- ``candidates``: a street's ranked candidate list (``/streets/{name}/candidates``);
- ``edit``: a PATCH with If-Match of the version just read (a 412 is an expected outcome, not an error).

It reports sustained requests/s, p50/p99 latency and error rate per kind and overall, prints a table and returns
the same figures from `run`. An error is a transport failure, a timeout or a 5xx (and any 4xx other than a 412 on
an edit).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx
import numpy as np

from geo.auth import add_user
from geo.demo import IMPORT_ORDER, SAMPLE_DIR
from geo.io.importers import import_layer
from geo.stores import Store, open_store

#: Share of each kind of request in the mix (sums to 1).
MIX: dict[str, float] = {"map": 0.35, "buildings": 0.25, "item": 0.2, "candidates": 0.1, "edit": 0.1}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_process(database_url: str, *, workers: int = 1) -> Iterator[str]:
    """Run ``uvicorn api.app:create_app --factory`` over ``database_url`` in a child process; yield its URL.

    A separate process, so the load generator and the server do not share one interpreter lock.
    """
    port = free_port()
    env = {**os.environ, "RENEWAL_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, cwd=Path(__file__).resolve().parents[1])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}")
            try:
                httpx.get(f"{url}/openapi.json", timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start within 60 s") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def load_sample(store: Store) -> None:
    """Import the sample city shipped in ``data/boundaries/`` (180 communities, 1,198 buildings), as the demo does."""
    for layer in IMPORT_ORDER:
        import_layer(store, layer, SAMPLE_DIR / f"{layer}.geojson")
    import_layer(store, "survey", SAMPLE_DIR / "survey.xlsx")


@dataclass
class Tally:
    """Latencies (seconds) and outcomes of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    conflicts: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, seconds: float, status: int | None, *, ok: bool, conflict: bool = False) -> None:
        self.latencies.append(seconds)
        if status is not None:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        self.errors += not ok
        self.conflicts += conflict

    def summary(self, elapsed: float) -> dict[str, Any]:
        n = len(self.latencies)
        lat = np.asarray(self.latencies) * 1000.0 if n else np.zeros(1)
        return {
            "requests": n,
            "rps": n / elapsed if elapsed else 0.0,
            "p50_ms": float(np.percentile(lat, 50)),
            "p99_ms": float(np.percentile(lat, 99)),
            "error_rate": self.errors / n if n else 0.0,
            "conflicts_412": self.conflicts,
            "statuses": dict(sorted(self.statuses.items())),
        }


@dataclass(frozen=True)
class Workload:
    """What the clients ask about: boxes inside the city, community fids, street names."""

    city_bounds: tuple[float, float, float, float]
    fids: list[int]
    streets: list[str]
    token: str

    def box(self, rng: random.Random, metres: float) -> str:
        minx, miny, maxx, maxy = self.city_bounds
        dy = metres / 110_950.0
        dx = dy / np.cos(np.radians((miny + maxy) / 2))
        x, y = rng.uniform(minx, max(minx, maxx - dx)), rng.uniform(miny, max(miny, maxy - dy))
        return f"{x:.6f},{y:.6f},{x + dx:.6f},{y + dy:.6f}"


async def _one(client: httpx.AsyncClient, kind: str, work: Workload, rng: random.Random, tally: Tally) -> None:
    start = time.perf_counter()
    status: int | None = None
    ok = False
    conflict = False
    try:
        if kind == "map":
            r = await client.get("/collections/communities/items", params={"bbox": work.box(rng, 1000), "limit": 500})
        elif kind == "buildings":
            r = await client.get("/collections/buildings/items", params={"bbox": work.box(rng, 300), "limit": 1000})
        elif kind == "item":
            r = await client.get(f"/collections/communities/items/{rng.choice(work.fids)}")
        elif kind == "candidates":
            r = await client.get(f"/streets/{rng.choice(work.streets)}/candidates")
        else:
            fid = rng.choice(work.fids)
            seen = await client.get(f"/collections/communities/items/{fid}")
            seen.raise_for_status()
            r = await client.patch(
                f"/collections/communities/items/{fid}",
                json={"properties": {"households": rng.randint(10, 900)}},
                headers={"If-Match": seen.headers["etag"]},
            )
            conflict = r.status_code == 412
        status = r.status_code
        ok = r.status_code < 400 or conflict
        await r.aread()
    except (httpx.HTTPError, KeyError):
        ok = False
    tally.add(time.perf_counter() - start, status, ok=ok, conflict=conflict)


async def _drive(
    base_url: str, work: Workload, *, mix: dict[str, float], clients: int, seconds: float, seed: int
) -> tuple[dict[str, Tally], float]:
    tallies = {kind: Tally() for kind in mix}
    kinds, weights = list(mix), list(mix.values())
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {work.token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30.0) as client:

        async def worker(i: int) -> None:
            rng = random.Random(seed * 1000 + i)
            while time.perf_counter() < stop:
                kind = rng.choices(kinds, weights)[0]
                await _one(client, kind, work, rng, tallies[kind])

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return tallies, elapsed


def run(
    *,
    store_kind: str = "sqlite",
    clients: int = 16,
    seconds: float = 20.0,
    workers: int = 1,
    mix: dict[str, float] | None = None,
    seed: int = 7,
) -> dict[str, Any]:
    """Load the sample city, serve it, drive ``clients`` concurrent clients for ``seconds``; figures per kind.

    ``mix`` replaces `MIX` (e.g. without ``edit`` for a read-only figure); ``workers`` is uvicorn's process count.
    ``store_kind`` ``postgis`` uses the local server (database ``renewal_load``, emptied first); ``sqlite`` a file
    in a temporary directory.
    """
    with TemporaryDirectory() as tmp:
        store = _open(store_kind, Path(tmp))
        try:
            load_sample(store)
            token = add_user(store, "load-planner", "planner")
            communities = store.read_layer("communities")
            work = Workload(
                city_bounds=tuple(float(v) for v in communities.total_bounds),  # type: ignore[arg-type]
                fids=[int(f) for f in communities["fid"]],
                streets=sorted(set(communities["street"].dropna())),
                token=token,
            )
            with serve_process(store.engine.url.render_as_string(hide_password=False), workers=workers) as url:
                tallies, elapsed = asyncio.run(
                    _drive(url, work, mix=mix or MIX, clients=clients, seconds=seconds, seed=seed)
                )
        finally:
            store.dispose()
    every = Tally()
    for t in tallies.values():
        every.latencies += t.latencies
        every.errors += t.errors
        every.conflicts += t.conflicts
        for k, v in t.statuses.items():
            every.statuses[k] = every.statuses.get(k, 0) + v
    result: dict[str, Any] = {
        "store": store_kind,
        "communities": len(work.fids),
        "clients": clients,
        "workers": workers,
        "seconds": elapsed,
        "kinds": {kind: t.summary(elapsed) for kind, t in tallies.items()},
        "total": every.summary(elapsed),
    }
    print(table(result))
    return result


def _open(kind: str, tmp: Path) -> Store:
    if kind == "sqlite":
        return open_store(f"sqlite:///{tmp / 'load.sqlite'}")
    from bench._measure import postgres_url

    url = postgres_url("renewal_load")
    if url is None:
        raise SystemExit("PostGIS is not reachable on 127.0.0.1:5432")
    store = open_store(url)
    with store.begin() as conn:
        names = ", ".join(t.name for t in reversed(store.metadata.sorted_tables))
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    return store


def table(result: dict[str, Any]) -> str:
    """The figures as a fixed-width text table."""
    head = (
        f"load: {result['store']}, {result['communities']} communities, {result['clients']} clients, "
        f"{result['workers']} worker(s), "
        f"{result['seconds']:.1f} s"
    )
    lines = [head, f"{'kind':<11}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'412':>6}"]
    for kind, s in [*result["kinds"].items(), ("total", result["total"])]:
        lines.append(
            f"{kind:<11}{s['requests']:>9}{s['rps']:>9.1f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"{s['error_rate']:>8.2%}{s['conflicts_412']:>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["sqlite", "postgis"], default="sqlite")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--read-only", action="store_true", help="leave the edits out of the mix")
    args = parser.parse_args(argv)
    mix = {k: v for k, v in MIX.items() if k != "edit"} if args.read_only else None
    run(store_kind=args.store, clients=args.clients, seconds=args.seconds, workers=args.workers, mix=mix)


if __name__ == "__main__":
    main()
