"""Import 100,000 generated building footprints into PostGIS, against ``GeoDataFrame.to_postgis``.

Three measurements in one run, each in its own process (peak RSS is per case):
- ``to_postgis``: geopandas' own loader (COPY) from an in-memory frame into a new table with a GiST index;
- ``store.write_layer``: our bulk loader from the same in-memory frame (COPY, GiST built after the load);
- ``renewal import``: the whole pipeline from a GeoPackage file (streamed read, checks, COPY, derived totals).
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
from sqlalchemy import create_engine, text

from bench._measure import measure, postgres_url

N_BUILDINGS = 100_000
WORK = Path(__file__).with_name("_work")


def _buildings(n: int) -> gpd.GeoDataFrame:
    from geo.synthetic.city import make_city

    city = make_city(n_communities=max(200, int(n * 0.3)), n_buildings=n)
    b = city["buildings"]
    return b.iloc[:n].reset_index(drop=True)


def _to_postgis(url: str, path: Path) -> int:
    gdf = gpd.read_parquet(path)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_to_postgis"))
    gdf.to_postgis("bench_to_postgis", engine, index=False)
    with engine.begin() as conn:  # geopandas creates no spatial index; a usable table needs one
        conn.execute(text("CREATE INDEX ON bench_to_postgis USING GIST (geometry)"))
    engine.dispose()
    return len(gdf)


def _write_layer(url: str, path: Path) -> int:
    from geo.stores import open_store

    gdf = gpd.read_parquet(path)
    store = open_store(url)
    with store.begin() as conn:
        store.delete_all(conn, "buildings")
        with store.deferred_spatial_index(conn, "buildings"):
            store.write_layer(conn, "buildings", gdf)
    store.dispose()
    return len(gdf)


def _import_file(url: str, path: Path) -> int:
    from geo.io.importers import import_layer
    from geo.stores import open_store

    store = open_store(url)
    report = import_layer(store, "buildings", path, replace=True)
    store.dispose()
    return report.rows


def run(n: int = N_BUILDINGS) -> dict[str, object]:
    url = postgres_url()
    if url is None:
        print("PostGIS unavailable: benchmark skipped")
        return {"skipped": "PostGIS unavailable"}
    WORK.mkdir(exist_ok=True)
    gdf = _buildings(n)
    parquet, gpkg = WORK / "buildings.parquet", WORK / "buildings.gpkg"
    gdf.to_parquet(parquet)
    gdf.to_file(gpkg, layer="buildings")
    # An empty store with no communities, so the pipeline's overlap assignment has nothing to look up.
    from geo.stores import open_store

    store = open_store(url)
    with store.begin() as conn:
        for layer in ("buildings", "communities"):
            store.delete_all(conn, layer)
    store.dispose()
    cases = {
        "to_postgis (baseline)": measure(_to_postgis, url, parquet),
        "store.write_layer": measure(_write_layer, url, parquet),
        "renewal import (GeoPackage file)": measure(_import_file, url, gpkg),
    }
    base = cases["to_postgis (baseline)"]["seconds"]
    print(f"Import of {n:,} building footprints into PostGIS")
    print(f"{'case':36} {'seconds':>8} {'features/s':>11} {'vs to_postgis':>14} {'peak RSS MiB':>13}")
    rows = {}
    for name, m in cases.items():
        rate = n / m["seconds"]
        ratio = base / m["seconds"]
        rows[name] = {
            "seconds": round(m["seconds"], 3),
            "features_per_s": round(rate),
            "speedup": round(ratio, 2),
            "peak_rss_mib": round(m["peak_rss_mib"], 1),
        }
        print(f"{name:36} {m['seconds']:8.2f} {rate:11,.0f} {ratio:13.2f}x {m['peak_rss_mib']:13.0f}")
    return {"n": n, "cases": rows}


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else N_BUILDINGS)
