"""Items pages on the embedded SQLite store with 470,000 buildings: SQL paging against reading the layer (issue 11).

Baseline, measured in the same run: what ``GET /collections/buildings/items?limit=1`` did before, reading the whole
layer into a frame and slicing it. Then pages as the API now builds them (`geo.stores.features.feature_page`:
selection, count, order and page in SQLite, the R*Tree and exact shapely predicates for areas). Each measurement
runs in a fresh process, so its peak RSS is its own. ``RENEWAL_BENCH_BUILDINGS`` sets the layer size.

    python -m bench.bench_items_sqlite
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from bench._measure import measure
from geo.stores import open_store
from geo.stores.features import FeatureQuery, OutputCRS, feature_page

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "buildings.geojson"
N_BUILDINGS = int(os.environ.get("RENEWAL_BENCH_BUILDINGS", "470000"))
OUT = OutputCRS(crs=pyproj.CRS("OGC:CRS84"), epsg=None)


def build(url: str, n: int) -> None:
    """A store holding ``n`` buildings: the sample city's footprints tiled eastwards, ids made unique."""
    sample = gpd.read_file(SAMPLE).to_crs(4490)
    copies = -(-n // len(sample))
    width = float(sample.total_bounds[2] - sample.total_bounds[0]) + 0.001
    frames = []
    for i in range(copies):
        part = sample.copy()
        part["id"] = [f"{v}-{i}" for v in sample["id"]]
        part["community_id"] = None
        part.geometry = shapely.transform(np.asarray(sample.geometry.array), lambda xy, i=i: xy + [i * width, 0.0])
        frames.append(part)
    frame = pd.concat(frames, ignore_index=True).iloc[:n]
    store = open_store(url)
    with store.begin() as conn, store.deferred_spatial_index(conn, "buildings"):
        store.write_layer(conn, "buildings", frame)
    store.dispose()


def whole_layer(url: str) -> int:
    store = open_store(url, migrate=False)
    return len(store.read_layer("buildings").iloc[:1])


def page(url: str, query: dict[str, Any]) -> int:
    store = open_store(url, migrate=False)
    matched, _ = feature_page(store, FeatureQuery("buildings", **query), out=OUT)
    return matched


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'items.sqlite'}"
        measure(build, url, N_BUILDINGS)
        sample_box = shapely.box(101.52, 25.02, 101.56, 25.05)
        cases = [
            ("baseline: read the layer, keep 1 (before)", whole_layer, (url,)),
            ("limit=1", page, (url, {"limit": 1})),
            ("limit=1000 offset=200000", page, (url, {"limit": 1000, "offset": 200_000})),
            ("bbox (sample city) limit=1000", page, (url, {"limit": 1000, "region": sample_box})),
            ("sortby=-floors limit=100", page, (url, {"limit": 100, "sortby": (("floors", True),)})),
        ]
        print(f"SQLite store, {N_BUILDINGS:,} buildings; each row in a fresh process\n")
        print("| request | seconds | peak RSS MiB | numberMatched |")
        print("|---|---:|---:|---:|")
        rows = []
        for label, fn, args in cases:
            m = measure(fn, *args)
            rows.append(m)
            print(f"| {label} | {m['seconds']:.3f} | {m['peak_rss_mib']:.0f} | {m['result']:,} |")
        base = rows[0]
        print(
            f"\nlimit=1 against the baseline: {base['seconds'] / rows[1]['seconds']:.0f}× faster, "
            f"{base['peak_rss_mib'] / rows[1]['peak_rss_mib']:.1f}× less peak memory."
        )


if __name__ == "__main__":
    main()
