"""Benchmark of the OGC API – Features items route against tipg and against PostgreSQL alone, in one run.

Run as ``python -m bench.bench_api [--communities 2000] [--requests 200]``. One PostGIS database holds a generated
city; the same table is served by

- ``this API``: ``uvicorn api.app:create_app --factory`` (one worker, anonymous read on);
- ``tipg``: ``uvicorn tipg.main:app`` (one worker) when tipg can be run: importable here, or installed in the
  separate environment ``bench/_work/tipg-venv`` (``python -m venv bench/_work/tipg-venv &&
  bench/_work/tipg-venv/bin/pip install tipg uvicorn``: its pins must not touch this project's environment);
  otherwise it is reported unavailable;
- ``PostgreSQL alone``: the statement this API runs, wrapped to build the whole FeatureCollection as one text
  (``string_agg`` of per-feature GeoJSON), executed over psycopg2 with no HTTP at all: the floor.

Two workloads, each a bounded loop of sequential requests on loopback (``--requests`` each, after 5 warm-ups):
a street's communities (``street=NAME&limit=500``, ~500 features) and bbox queries on buildings (random 300 m boxes,
``limit=1000``). It prints requests/s, p50 and p99 latency, and each server's ratio to PostgreSQL alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pyproj
from sqlalchemy import text

from bench._measure import postgres_url
from geo.model import STORAGE_EPSG
from geo.stores import Store, open_store
from geo.stores.features import FeatureQuery, OutputCRS, collection_sql
from geo.synthetic.city import make_city

ROOT = Path(__file__).resolve().parents[1]
TIPG_VENV = ROOT / "bench" / "_work" / "tipg-venv"
DATABASE = "renewal_bench_api"
STREET_LIMIT = 500
BBOX_LIMIT = 1000
BBOX_M = 300.0
SEED = 20200307


def run(*, communities: int = 2000, requests: int = 200) -> dict:
    """Load a city, measure every server on both workloads, print the table and return the figures."""
    url = postgres_url(DATABASE)
    if url is None:
        print("PostGIS unavailable: nothing measured")
        return {}
    store = open_store(url)
    street = _load(store, communities)
    rng = np.random.default_rng(SEED)
    boxes = _boxes(store, rng, requests + 5)
    pg = _postgres_alone(store, street, boxes)
    results: dict[str, dict[str, dict[str, float]]] = {"PostgreSQL alone": pg}
    with _server(
        [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"],
        {"RENEWAL_DATABASE_URL": url, "RENEWAL_API_ANONYMOUS_READ": "true"},
    ) as base:
        results["this API"] = _http(base, "communities", "buildings", street, boxes, requests)
    tipg = _tipg_command()
    if tipg is None:
        tipg_note = "tipg: unavailable (not importable and no bench/_work/tipg-venv)"
    else:
        env = {
            "DATABASE_URL": url.replace("+psycopg2", ""),
            "TIPG_NAME": "tipg",
            "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        }
        with _server(tipg, env) as base:
            results["tipg"] = _http(base, "public.communities", "public.buildings", street, boxes, requests)
        tipg_note = "tipg: measured"
    store.dispose()
    _print(results, communities=communities, requests=requests, street=street, note=tipg_note)
    return results


# -- data --------------------------------------------------------------------------------------------------------


def _load(store: Store, communities: int) -> str:
    """Fill the database with a generated city (once per size) and return a street of ≥ 500 communities."""
    with store.engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM communities")).scalar()
    if have != communities:
        city = make_city(n_communities=communities, seed=SEED)
        with store.begin() as conn:
            for layer in ("streets", "communities", "buildings"):
                store.delete_all(conn, layer)
                with store.deferred_spatial_index(conn, layer):
                    store.write_layer(conn, layer, city[layer])
            conn.execute(text("ANALYZE"))
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT street, count(*) FROM communities GROUP BY street ORDER BY abs(count(*) - :n) LIMIT 1"),
            {"n": STREET_LIMIT},
        ).one()
    return row[0]


def _boxes(store: Store, rng: np.random.Generator, n: int) -> list[tuple[float, float, float, float]]:
    minx, miny, maxx, maxy = store.extent("buildings")
    dx = BBOX_M / (111_320.0 * np.cos(np.radians((miny + maxy) / 2)))
    dy = BBOX_M / 110_540.0
    xs = rng.uniform(minx, maxx - dx, n)
    ys = rng.uniform(miny, maxy - dy, n)
    return [(float(x), float(y), float(x + dx), float(y + dy)) for x, y in zip(xs, ys, strict=True)]


# -- measuring ---------------------------------------------------------------------------------------------------


def _timed(calls: list[Callable[[], int]]) -> dict[str, float]:
    """Run warm-ups then the calls in order; requests/s, p50 and p99 (ms) and mean features per response."""
    for call in calls[:5]:
        call()
    times, sizes = [], []
    for call in calls[5:]:
        start = time.perf_counter()
        sizes.append(call())
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    return {
        "req_s": len(times) / sum(times),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "features": float(np.mean(sizes)),
    }


def _postgres_alone(store: Store, street: str, boxes: list) -> dict[str, dict[str, float]]:
    out = OutputCRS(crs=pyproj.CRS("OGC:CRS84"), epsg=None)
    street_sql = collection_sql(
        store, FeatureQuery("communities", filters={"street": street}, limit=STREET_LIMIT), out=out
    )
    with store.engine.connect() as conn:

        def street_call() -> int:
            return conn.execute(street_sql).scalar_one().count('"type":"Feature"')

        def bbox_call(b: tuple[float, ...]) -> Callable[[], int]:
            stmt = collection_sql(store, FeatureQuery("buildings", bbox=b, limit=BBOX_LIMIT), out=out)
            return lambda: conn.execute(stmt).scalar_one().count('"type":"Feature"')

        return {
            "street": _timed([street_call] * (len(boxes))),
            "bbox": _timed([bbox_call(b) for b in boxes]),
        }


def _http(base: str, communities: str, buildings: str, street: str, boxes: list, requests: int) -> dict:
    with httpx.Client(base_url=base, timeout=60) as client:

        def get(path: str, params: dict) -> Callable[[], int]:
            def call() -> int:
                r = client.get(path, params=params)
                r.raise_for_status()
                return len(r.json()["features"])

            return call

        street_call = get(f"/collections/{communities}/items", {"street": street, "limit": STREET_LIMIT})
        return {
            "street": _timed([street_call] * (requests + 5)),
            "bbox": _timed(
                [
                    get(
                        f"/collections/{buildings}/items",
                        {"bbox": ",".join(f"{v:.7f}" for v in b), "limit": BBOX_LIMIT},
                    )
                    for b in boxes
                ]
            ),
        }


def _tipg_command() -> list[str] | None:
    if importlib.util.find_spec("tipg") is not None:
        return [sys.executable, "-m", "uvicorn", "tipg.main:app"]
    python = TIPG_VENV / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import tipg"], capture_output=True).returncode == 0:
        return [str(python), "-m", "uvicorn", "tipg.main:app"]
    return None


@contextmanager
def _server(command: list[str], env: dict[str, str]) -> Iterator[str]:
    """Start ``command`` (a uvicorn app) on a free loopback port; yields its base URL; stops it after."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=dict(os.environ, **env),
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/conformance", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"server did not start: {' '.join(command)}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _print(results: dict, *, communities: int, requests: int, street: str, note: str) -> None:
    floor = results["PostgreSQL alone"]
    print(
        f"city: {communities} communities (EPSG:{STORAGE_EPSG}); {requests} sequential requests per workload; "
        f"street workload: {street}, limit {STREET_LIMIT}; bbox workload: {BBOX_M:.0f} m boxes on buildings, "
        f"limit {BBOX_LIMIT}; {note}"
    )
    header = f"{'server':<18}{'workload':<9}{'features':>9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× PG req/s':>12}"
    print(header)
    print("-" * len(header))
    for name, workloads in results.items():
        for workload, m in workloads.items():
            ratio = m["req_s"] / floor[workload]["req_s"]
            print(
                f"{name:<18}{workload:<9}{m['features']:>9.0f}{m['req_s']:>9.1f}{m['p50_ms']:>9.1f}"
                f"{m['p99_ms']:>9.1f}{ratio:>12.2f}"
            )


def main() -> None:  # pragma: no cover - command line
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    run(communities=args.communities, requests=args.requests)


if __name__ == "__main__":  # pragma: no cover
    main()
