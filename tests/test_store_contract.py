"""The store contract: the same calls give the same answers on SQLite and on PostGIS."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.stores import Store
from geo.synthetic.city import make_city

CITY = make_city(n_communities=200, seed=7)


def _load(store: Store) -> None:
    with store.begin() as conn:
        for layer in ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads"):
            store.write_layer(conn, layer, CITY[layer])


def _bbox(frac: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = CITY["communities"].total_bounds
    w, h = maxx - minx, maxy - miny
    return (minx + frac[0] * w, miny + frac[1] * h, minx + frac[2] * w, miny + frac[3] * h)


@pytest.mark.parametrize("frac", [(0, 0, 1, 1), (0.2, 0.2, 0.5, 0.6), (0.9, 0.9, 0.95, 0.95)])
def test_bbox_query_returns_exactly_the_intersecting_features(store: Store, frac) -> None:
    _load(store)
    bbox = _bbox(frac)
    got = store.read_layer("communities", bbox=bbox)
    truth = CITY["communities"][shapely.intersects(CITY["communities"].geometry.values, shapely.box(*bbox))]
    assert got["id"].tolist() == truth["id"].tolist()
    assert store.count("communities", bbox=bbox) == len(truth)


def test_filters_extent_counts_and_batches(store: Store) -> None:
    _load(store)
    street = CITY["communities"]["street"].iloc[0]
    got = store.read_layer("communities", filters={"street": street})
    assert got["id"].tolist() == CITY["communities"].loc[CITY["communities"]["street"] == street, "id"].tolist()
    assert store.extent("communities") == pytest.approx(tuple(CITY["communities"].total_bounds), abs=1e-9)
    counts = store.counts()
    assert counts["buildings"] == len(CITY["buildings"]) and counts["survey"] == 0
    batches = list(store.iter_layer("buildings", batch_size=300))
    assert [len(b) for b in batches[:-1]] == [300] * (len(batches) - 1)
    joined = pd.concat(batches, ignore_index=True)
    assert joined["id"].tolist() == CITY["buildings"]["id"].tolist()
    assert (shapely.to_wkb(joined.geometry.values) == shapely.to_wkb(CITY["buildings"].geometry.values)).all()


def test_failed_transaction_leaves_store_unchanged(store: Store) -> None:
    _load(store)
    before = store.fingerprint()
    extra = gpd.GeoDataFrame(
        {"id": ["NEW"], "name": ["新小区"]}, geometry=[shapely.box(101.5, 25.0, 101.501, 25.001)], crs=4490
    )
    with pytest.raises(RuntimeError), store.begin() as conn:
        store.write_layer(conn, "communities", extra)
        raise RuntimeError("abort after the write")
    assert store.fingerprint() == before
    assert "NEW" not in store.read_layer("communities")["id"].tolist()


def test_both_stores_identical_on_a_generated_city(both_stores: tuple[Store, Store]) -> None:
    for s in both_stores:
        _load(s)
    sqlite, pg = both_stores
    for layer in ("streets", "communities", "buildings", "roads"):
        a, b = sqlite.read_layer(layer), pg.read_layer(layer)
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
        assert (shapely.to_wkb(a.geometry.values) == shapely.to_wkb(b.geometry.values)).all()
    bbox = _bbox((0.1, 0.3, 0.7, 0.8))
    assert (
        sqlite.read_layer("buildings", bbox=bbox)["id"].tolist()
        == pg.read_layer("buildings", bbox=bbox)["id"].tolist()
    )
