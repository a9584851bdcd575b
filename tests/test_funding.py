"""Funding: costs from geo/policy/costs/default.yaml and each profile's split, worked out by hand."""

from __future__ import annotations

import pandas as pd

from geo.policy.funding import costs, load_cost_model
from geo.policy.profiles import load_profile


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{"name": r["id"], **r} for r in rows])


def survey(**items: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"community_id": cid, **{code: "是" for code in codes}} for cid, codes in items.items()])


def split(result: pd.DataFrame, i: int) -> tuple[int, int, int]:
    row = result.iloc[i]
    return int(row["cost_yuan"]), int(row["residents_yuan"]), int(row["subsidy_yuan"])


def test_default_cost_model_matches_jingyuan_average():
    # 27018.02万元 / 75.07万 m² ≈ 360 yuan/m²: the basic package plus lighting and greening.
    model = load_cost_model()
    package = [
        "water_supply",
        "drainage",
        "power",
        "gas",
        "road",
        "fire_safety",
        "security",
        "telecom",
        "overhead_lines",
        "waste_sorting",
        "roof",
        "facade",
        "stairwell",
        "lighting",
        "greening",
    ]
    assert sum(model.unit(i).per_m2 for i in package) == 360


def test_lucheng_shares_with_half_up_rounding():
    # 1000.5 m²; water (basic, 30/m²) = 30015, greening (improvement, 20/m²) = 20010; cost 50025.
    # Residents 10 % x 30015 + 30 % x 20010 = 3001.5 + 6003 = 9004.5; subsidy 41020.5 -> 41021 (half up once).
    comms = frame({"id": "a", "households": 20, "floor_area_m2": 1000.5})
    result = costs(comms, survey=survey(a=["water_supply", "greening"]), profile=load_profile("lucheng-2020"))
    assert split(result, 0) == (50025, 9004, 41021)
    assert result.iloc[0]["cost_breakdown"] == {"basic": 30015, "improvement": 20010}


def test_lucheng_subsidy_capped_at_400_per_m2():
    # 1000.5 m². Mandatory: drainage 40 + fire 20 + overhead lines 12 + waste 7 = 79/m² -> 79039.5 -> 79040.
    # Basic: water 30 + power 30 + gas 25 + road 25 + roof 45 + facade 55 + stairwell 30 + heating 35 = 275/m²
    #   -> 275137.5 -> 275138. Improvement: energy saving 60/m² -> 60030. Upgrade: community service 300000.
    # Elevator is funded separately (三(三)1): not costed. Cost = 714208.
    # Residents before the cap: 0 + 27513.8 + 18009 + 210000 = 255522.8; subsidy base 458685.2
    # > cap 400 x 1000.5 = 400200, so subsidy 400200 and residents pay the rest: 314008.
    items = [
        "drainage",
        "fire_safety",
        "overhead_lines",
        "waste_sorting",
        "water_supply",
        "power",
        "gas",
        "road",
        "roof",
        "facade",
        "stairwell",
        "heating",
        "energy_saving",
        "community_service",
        "elevator",
    ]
    comms = frame({"id": "a", "households": 40, "floor_area_m2": 1000.5})
    result = costs(comms, survey=survey(a=items), profile=load_profile("lucheng-2020"))
    assert split(result, 0) == (714208, 314008, 400200)
    assert result.iloc[0]["cost_breakdown"] == {
        "mandatory": 79040,
        "basic": 275138,
        "improvement": 60030,
        "upgrade": 300000,
    }


def test_chuxiong_per_household_and_low_income():
    # 30 households of which 4 低保: 26 x 1000 + 4 x 500 = 28000. Roof (功能提升, 45/m²) on 2000 m² = 90000.
    # Second community: 100 m² roof = 4500 < 28000, so residents pay the whole 4500 and no subsidy.
    # Heating is not on Chuxiong's menu: never costed.
    comms = frame(
        {"id": "a", "households": 30, "low_income_households": 4, "floor_area_m2": 2000},
        {"id": "b", "households": 30, "low_income_households": 4, "floor_area_m2": 100},
    )
    result = costs(comms, survey=survey(a=["roof", "heating"], b=["roof"]), profile=load_profile("chuxiong-2020"))
    assert split(result, 0) == (90000, 28000, 62000)
    assert split(result, 1) == (4500, 4500, 0)


def test_mangshi_unit_and_other_buildings():
    # Roof 45 + facade 55 = 100/m² x 3000 m² = 300000. 40 households: 单元楼 1500 each, others 2000 each.
    comms = frame(
        {"id": "u", "households": 40, "floor_area_m2": 3000, "building_type": "unit"},
        {"id": "o", "households": 40, "floor_area_m2": 3000, "building_type": "other"},
    )
    result = costs(
        comms, survey=survey(u=["roof", "facade"], o=["roof", "facade"]), profile=load_profile("mangshi-2020")
    )
    assert split(result, 0) == (300000, 60000, 240000)
    assert split(result, 1) == (300000, 80000, 220000)


def test_no_fixed_share_and_renovated_items():
    # Jingyuan: no resident share in the seed. Gas 25/m² x 2000 = 50000 plus a property room lump sum 150000;
    # the roof was already renovated and is not costed again (靖政发〔2023〕75号 五).
    comms = frame({"id": "a", "households": 50, "floor_area_m2": 2000})
    s = survey(a=["gas", "property_room", "roof"]).assign(already_renovated="roof")
    result = costs(comms, survey=s, profile=load_profile("jingyuan-2023"))
    assert split(result, 0) == (200000, 0, 200000)


def test_unknown_floor_area_gives_no_figures():
    comms = frame({"id": "a", "households": 50, "floor_area_m2": None})
    result = costs(comms, survey=survey(a=["gas"]), profile=load_profile("yulin-2022"))
    assert result["cost_yuan"].isna().all() and result.iloc[0]["cost_breakdown"] is None
