"""Benchmark of adjacency and merging (拆墙连片) on generated cities, against PostGIS in the same run.

Run as ``python -m bench.bench_merge [--sizes 1000 10000 50000]``. For each city size it measures:

- ``adjacency_s``: neighbour pairs within 15 m with major roads as barriers (:func:`geo.adjacency.adjacency`);
- ``components_s``: the PostGIS-comparable job, pairs within 15 m and their connected components, no roads;
- ``postgis_s``: ``ST_ClusterDBSCAN(geom, eps := 15, minpoints := 1)`` on the same metric polygons (the same
  connected components), query time only, with a GiST index already built;
- ``merge_s``: :func:`geo.units.merge_units` end to end (adjacency, greedy merge, outlines);
- ``peak_rss_mb``: peak resident memory while merging (Linux ``VmHWM`` reset before the run; otherwise the
  process peak from ``getrusage``); ``tracemalloc_mb``: peak Python/numpy allocations while merging.

It prints a table and returns the results as a dict; growth exponents are log–log slopes over the sizes.
The aims: components within 2x of PostGIS, merging 50k communities under 3 s.
"""

from __future__ import annotations

import argparse
import io
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import psycopg2
import shapely
from psycopg2 import sql
from scipy.sparse.csgraph import connected_components

from geo.adjacency import adjacency, adjacency_matrix
from geo.crs import metric_crs
from geo.samplecity import make_city
from geo.units import MergeRules, merge_units

SIZES = (1_000, 10_000, 50_000)
GAP_M = 15.0
SEED = 20200307
PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
PG_DATABASE = "renewal_bench"
RULES = MergeRules(gap_m=GAP_M, min_households=300, max_households=2000, max_floor_area_m2=None)


def run(*, sizes: tuple[int, ...] = SIZES, repeat: int = 2) -> dict:
    """Measure every size, print the table and return ``{"sizes": {n: {...}}, "exponents": {...}, ...}``."""
    postgis = _postgis_connection()
    rows: dict[int, dict[str, float | None]] = {}
    for n in sizes:
        communities, roads = _city(n)
        rows[n] = _measure(communities, roads, postgis=postgis, repeat=repeat)
        rows[n]["communities"] = len(communities)
    if postgis is not None:
        postgis.close()
    result = {
        "sizes": rows,
        "exponents": {
            key: _slope(rows, key) for key in ("adjacency_s", "components_s", "merge_s", "postgis_s") if len(rows) > 1
        },
        "postgis_available": postgis is not None,
        "gap_m": GAP_M,
    }
    _print(result)
    return result


def _city(n: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The generated city with deterministic planning columns (every community eligible: the largest workload)."""
    city = make_city(n_communities=n, seed=SEED)
    communities = city["communities"].copy()
    rng = np.random.default_rng(SEED)
    households = communities["households"].fillna(0).astype("int64").to_numpy()
    communities["status"] = "eligible"
    communities["score"] = np.round(rng.uniform(0, 100, len(communities)), 1)
    communities["floor_area_m2"] = communities["floor_area_m2"].fillna(0.0)
    communities["households"] = households
    communities["cost_yuan"] = households * 30_000
    communities["residents_yuan"] = households * 3_000
    communities["subsidy_yuan"] = households * 27_000
    return communities, city["roads"]


def _measure(
    communities: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    *,
    postgis: psycopg2.extensions.connection | None,
    repeat: int,
) -> dict[str, float | None]:
    ids = communities["id"].tolist()

    def components() -> int:
        pairs = adjacency(communities, gap_m=GAP_M, cross_streets=True)
        n_components, _labels = connected_components(adjacency_matrix(pairs, ids=ids), directed=False)
        return n_components

    out: dict[str, float | None] = {
        "adjacency_s": _best(lambda: adjacency(communities, roads=roads, gap_m=GAP_M), repeat),
        "components_s": _best(components, repeat),
    }
    out["clusters"] = components()
    if postgis is not None:
        table = _load(postgis, communities)
        out["postgis_s"] = _best(lambda: _dbscan(postgis, table), repeat)
        out["postgis_clusters"] = _dbscan(postgis, table)
        out["ratio_vs_postgis"] = out["components_s"] / out["postgis_s"]
    else:
        out["postgis_s"] = out["postgis_clusters"] = out["ratio_vs_postgis"] = None
    out["merge_s"] = _best(lambda: merge_units(communities, roads=roads, rules=RULES), repeat)
    reset = _reset_peak_rss()
    merge_units(communities, roads=roads, rules=RULES)
    out["peak_rss_mb"] = _peak_rss_mb(reset)
    tracemalloc.start()
    merge_units(communities, roads=roads, rules=RULES)
    out["tracemalloc_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out


def _best(job: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def _postgis_connection() -> psycopg2.extensions.connection | None:
    """A connection to the bench database with PostGIS, created if missing; ``None`` when that is not possible."""
    try:
        admin = psycopg2.connect(f"{PG_DSN} dbname=postgres", connect_timeout=5)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_DATABASE)))
        admin.close()
        conn = psycopg2.connect(f"{PG_DSN} dbname={PG_DATABASE}", connect_timeout=5)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return conn
    except psycopg2.Error as exc:
        print(f"PostGIS baseline unavailable: {str(exc).strip()}")
        return None


def _load(conn: psycopg2.extensions.connection, communities: gpd.GeoDataFrame) -> str:
    """Copy the metric polygons into a fresh indexed table; returns its name."""
    table = f"bench_communities_{len(communities)}"
    geoms = communities.geometry.to_crs(metric_crs(communities)).values
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object), hex=True)
    buffer = io.StringIO("".join(f"{k}\t{w}\n" for k, w in enumerate(wkb)))
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        cur.execute(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, geom geometry)").format(sql.Identifier(table)))
        cur.copy_expert(
            sql.SQL("COPY {} (id, geom) FROM STDIN").format(sql.Identifier(table)).as_string(conn), buffer
        )
        cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(sql.Identifier(table)))
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    return table


def _dbscan(conn: psycopg2.extensions.connection, table: str) -> int:
    """Connected components within ``GAP_M`` in PostGIS; returns how many there are."""
    query = sql.SQL("SELECT ST_ClusterDBSCAN(geom, eps := %s, minpoints := 1) OVER () AS cluster FROM {}").format(
        sql.Identifier(table)
    )
    with conn.cursor() as cur:
        cur.execute(query, (GAP_M,))
        return len({row[0] for row in cur.fetchall()})


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (Linux ``clear_refs`` 5) so the next reading covers one run only."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mb(reset: bool) -> float:
    if reset:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _slope(rows: dict[int, dict], key: str) -> float | None:
    points = [(n, r[key]) for n, r in rows.items() if r.get(key)]
    if len(points) < 2:
        return None
    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def _print(result: dict) -> None:
    def cell(value: float | None, fmt: str) -> str:
        return "n/a" if value is None else format(value, fmt)

    header = (
        f"{'communities':>11} {'adjacency s':>11} {'components s':>12} {'PostGIS s':>9} {'ratio':>6} "
        f"{'merge s':>8} {'peak RSS MB':>11} {'tracemalloc MB':>14} {'clusters':>9} {'PostGIS cl.':>11}"
    )
    print(header)
    print("-" * len(header))
    for n, r in result["sizes"].items():
        print(
            f"{n:>11} {cell(r['adjacency_s'], '.3f'):>11} {cell(r['components_s'], '.3f'):>12} "
            f"{cell(r['postgis_s'], '.3f'):>9} {cell(r['ratio_vs_postgis'], '.2f'):>6} "
            f"{cell(r['merge_s'], '.3f'):>8} {cell(r['peak_rss_mb'], '.0f'):>11} "
            f"{cell(r['tracemalloc_mb'], '.0f'):>14} {r['clusters']:>9} "
            f"{cell(r['postgis_clusters'], 'd'):>11}"
        )
    exponents = ", ".join(f"{k.removesuffix('_s')} {cell(v, '.2f')}" for k, v in result["exponents"].items())
    print(f"growth exponents (log-log slope): {exponents}")
    if not result["postgis_available"]:
        print("PostGIS baseline unavailable: ratio not measured")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    run(sizes=tuple(args.sizes), repeat=args.repeat)


if __name__ == "__main__":
    main()
