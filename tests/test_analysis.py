"""The analysis service over a store: the whole chain on incomplete data does not fail, it explains."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.analysis import SIZE_COLUMNS, analyse, load_city, plan_streets, save_plan
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.stores import Store
from tests.conftest import SAMPLE


def test_communities_of_unknown_size_stay_listed_but_outside_units(store: Store, tmp_path: Path) -> None:
    comms = gpd.read_file(SAMPLE / "communities.geojson").iloc[:40].copy()
    comms["year_built"] = 1990
    comms.loc[comms.index[:10], "households"] = None  # no buildings imported: nothing to derive them from
    comms.to_file(tmp_path / "c.geojson")
    import_layer(store, "communities", tmp_path / "c.geojson")
    pd.DataFrame({"community_id": comms["id"], "roof": "是"}).to_csv(tmp_path / "s.csv", index=False)
    import_layer(store, "survey", tmp_path / "s.csv")

    analysis = analyse(load_city(store), profile=load_profile("national-2020"))

    cands = analysis.candidates.set_index("community_id")
    unknown = comms["id"].iloc[:10]
    assert len(cands) == 40
    assert cands.loc[unknown, "unit_id"].isna().all()
    sized = cands[cands[list(SIZE_COLUMNS)].notna().all(axis=1)]
    assert not set(unknown) & set(sized.index)
    assert len(sized) > 10 and (sized["status"] == "eligible").all()  # surveyed, roofs deficient
    assert sized.loc[sized["status"] == "eligible", "unit_id"].notna().all()
    members = [m for ms in analysis.units["members"] for m in ms]
    assert len(members) == len(set(members)) and not set(members) & set(unknown)


def test_plans_are_versioned_by_name(store: Store) -> None:
    for layer in ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads"):
        import_layer(store, layer, SAMPLE / f"{layer}.geojson")
    import_layer(store, "survey", SAMPLE / "survey.xlsx")
    analysis = analyse(load_city(store), profile=load_profile("chuxiong-2020"))
    plan = plan_streets(analysis, streets=None, year_from=2026, budget_per_year=50_000_000)
    assert (plan.years["cost_yuan"] <= 50_000_000).all() or plan.warnings
    v1 = save_plan(store, name="city", profile="chuxiong-2020", params={}, plan=plan)
    v2 = save_plan(store, name="city", profile="chuxiong-2020", params={}, plan=plan)
    assert (v1, v2) == (1, 2)
    planned = {m for ms in plan.units["members"] for m in ms}
    assert planned <= set(analysis.candidates.loc[analysis.candidates["status"] != "excluded", "community_id"])
    scheduled = plan.units[plan.units["year"].notna()]
    assert int(plan.years["communities"].sum()) == sum(len(m) for m in scheduled["members"])
