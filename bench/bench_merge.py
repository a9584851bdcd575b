"""Benchmark of adjacency and merging (拆墙连片) on generated cities, against PostGIS in the same run.

Run as ``python -m bench.bench_merge [--sizes 1000 10000 50000]``. For each city size it measures:

- ``adjacency_s``: neighbour pairs within 15 m with major roads as barriers (:func:`geo.space.adjacency.adjacency`);
- ``components_s``: the PostGIS-comparable job, pairs within 15 m and their connected components (no roads, no
  wall lengths: the same question PostGIS answers);
- ``postgis_s``: ``ST_ClusterDBSCAN(geom, eps := 15, minpoints := 1)`` on the same polygons already stored in
  metres (the same connected components), query time only, with a GiST index built: the strictest baseline;
- ``postgis_stored_s``: the same on the polygons as this project stores them (EPSG:4490), reprojected to the GK
  zone in the query, as a PostGIS deployment of the service would have to run it;
- ``merge_s``: :func:`geo.space.units.merge_units` end to end (adjacency, greedy merge, outlines);
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

from geo.crs import metric_crs
from geo.model import STORAGE_EPSG
from geo.space.adjacency import adjacency, adjacency_matrix
from geo.space.units import MergeRules, merge_units
from geo.synthetic.city import make_city

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
            key: _slope(rows, key)
            for key in ("adjacency_s", "components_s", "merge_s", "postgis_s", "postgis_stored_s")
            if len(rows) > 1
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
        pairs = adjacency(communities, gap_m=GAP_M, cross_streets=True, walls=False)
        n_components, _labels = connected_components(adjacency_matrix(pairs, ids=ids), directed=False)
        return n_components

    out: dict[str, float | None] = {
        "adjacency_s": _best(lambda: adjacency(communities, roads=roads, gap_m=GAP_M), repeat),
        "components_s": _best(components, repeat),
    }
    out["clusters"] = components()
    if postgis is not None:
        table, gk_epsg = _load(postgis, communities)
        out["postgis_s"] = _best(lambda: _dbscan(postgis, table, "geom"), repeat)
        out["postgis_stored_s"] = _best(lambda: _dbscan(postgis, table, "stored", gk_epsg), repeat)
        out["postgis_clusters"] = _dbscan(postgis, table, "geom")
        out["ratio_vs_postgis"] = out["components_s"] / out["postgis_s"]
        out["ratio_vs_postgis_stored"] = out["components_s"] / out["postgis_stored_s"]
    else:
        for key in (
            "postgis_s",
            "postgis_stored_s",
            "postgis_clusters",
            "ratio_vs_postgis",
            "ratio_vs_postgis_stored",
        ):
            out[key] = None
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


def _load(conn: psycopg2.extensions.connection, communities: gpd.GeoDataFrame) -> tuple[str, int]:
    """Copy the polygons (in metres, and as stored in EPSG:4490) into a fresh indexed table.

    Returns the table name and the EPSG code of the GK zone.
    """
    table = f"bench_communities_{len(communities)}"
    crs = metric_crs(communities)
    metric = shapely.to_wkb(np.asarray(communities.geometry.to_crs(crs).values, dtype=object), hex=True)
    stored = shapely.to_wkb(
        np.asarray(communities.geometry.to_crs(STORAGE_EPSG).values, dtype=object), hex=True, include_srid=False
    )
    rows = io.StringIO("".join(f"{k}\t{m}\t{s}\n" for k, (m, s) in enumerate(zip(metric, stored, strict=True))))
    name = sql.Identifier(table)
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(name))
        cur.execute(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, geom geometry, stored geometry)").format(name))
        cur.copy_expert(sql.SQL("COPY {} (id, geom, stored) FROM STDIN").format(name).as_string(conn), rows)
        cur.execute(sql.SQL("UPDATE {} SET stored = ST_SetSRID(stored, %s)").format(name), (STORAGE_EPSG,))
        cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(name))
        cur.execute(sql.SQL("CREATE INDEX ON {} USING gist (stored)").format(name))
        cur.execute(sql.SQL("ANALYZE {}").format(name))
    return table, crs.to_epsg()


def _dbscan(conn: psycopg2.extensions.connection, table: str, column: str, gk_epsg: int | None = None) -> int:
    """Connected components within ``GAP_M`` in PostGIS (reprojecting ``column`` when given a GK zone)."""
    geom = sql.Identifier(column)
    if gk_epsg is not None:
        geom = sql.SQL("ST_Transform({}, {})").format(geom, sql.Literal(gk_epsg))
    query = sql.SQL("SELECT ST_ClusterDBSCAN({}, eps := %s, minpoints := 1) OVER () AS cluster FROM {}").format(
        geom, sql.Identifier(table)
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

    columns = (
        ("communities", "communities", "d"),
        ("adjacency s", "adjacency_s", ".3f"),
        ("components s", "components_s", ".3f"),
        ("PostGIS s", "postgis_s", ".3f"),
        ("ratio", "ratio_vs_postgis", ".2f"),
        ("PostGIS 4490 s", "postgis_stored_s", ".3f"),
        ("ratio 4490", "ratio_vs_postgis_stored", ".2f"),
        ("merge s", "merge_s", ".3f"),
        ("peak RSS MB", "peak_rss_mb", ".0f"),
        ("tracemalloc MB", "tracemalloc_mb", ".0f"),
        ("clusters", "clusters", "d"),
        ("PostGIS cl.", "postgis_clusters", "d"),
    )
    print(" ".join(f"{title:>{len(title)}}" for title, _key, _fmt in columns))
    for r in result["sizes"].values():
        print(" ".join(f"{cell(r[key], fmt):>{len(title)}}" for title, key, fmt in columns))
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
