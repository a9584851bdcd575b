"""Scoring: hand-computed points, categories weighted, exact breakdowns, deterministic ranks."""

from __future__ import annotations

import pandas as pd

from geo.policy.profiles import load_profile
from geo.policy.scoring import rank, score


def frame(*rows: dict) -> pd.DataFrame:
    base = {"year_built": 1990, "households": 250, "floor_area_m2": 10000.0}
    return pd.DataFrame([{"name": r["id"], **base, **r} for r in rows])


def eligible(comms: pd.DataFrame, excluded: tuple[str, ...] = ()) -> pd.DataFrame:
    status = ["excluded" if c in excluded else "eligible" for c in comms["id"]]
    return pd.DataFrame({"status": status, "reasons": [[] for _ in status]}, index=comms.index)


def run(profile_id: str, comms: pd.DataFrame, survey: pd.DataFrame, excluded: tuple[str, ...] = ()) -> pd.DataFrame:
    out = score(comms, survey=survey, eligibility=eligible(comms, excluded), profile=load_profile(profile_id))
    return out.set_index(comms["id"])


def test_hand_computed_national_score():
    # national-2020 weights: deficiencies 40, priority items 10, age 15, households 10, support 25.
    # Deficient: water (basic 3) + greening (improvement 2) + childcare (upgrade 1) = 6 of the menu's
    # 14 x 3 + 11 x 2 + 5 x 1 = 69 -> 40 x 6/69 = 3.478 -> 3.5. Priority (水电路气): water 1/4 x 10 = 2.5.
    # Age (2020 - 1990) / 40 x 15 = 11.25 -> 11.3. Households 250/500 x 10 = 5.0. Support 200/250 x 25 = 20.0.
    comms = frame({"id": "a"})
    survey = pd.DataFrame(
        [{"community_id": "a", "water_supply": 1, "greening": 1, "childcare": 1, "support_households": 200}]
    )
    result = run("national-2020", comms, survey)
    assert result.loc["a", "score_breakdown"] == {
        "deficiencies": 3.5,
        "priority_items": 2.5,
        "age": 11.3,
        "households": 5.0,
        "support": 20.0,
    }
    assert result.loc["a", "score"] == 42.3


def test_breakdown_sums_to_score():
    comms = frame(*({"id": f"c{i}", "year_built": 1970 + 3 * i, "households": 37 * i + 11} for i in range(12)))
    items = ["water_supply", "gas", "roof", "greening", "elevator", "childcare", "drainage"]
    survey = pd.DataFrame(
        [
            {
                "community_id": f"c{i}",
                **{it: int((i + k) % 3 == 0) for k, it in enumerate(items)},
                "support_households": 7 * i,
            }
            for i in range(12)
        ]
    )
    for pid in ["national-2020", "lucheng-2020", "jingyuan-2023", "mangshi-2020", "chuxiong-2020", "yulin-2022"]:
        result = run(pid, comms, survey)
        for total, parts in zip(result["score"], result["score_breakdown"], strict=True):
            assert 0 <= total <= 100
            assert sum(round(p * 10) for p in parts.values()) == round(total * 10)


def test_basic_outweighs_improvement_outweighs_upgrade():
    comms = frame({"id": "basic"}, {"id": "improvement"}, {"id": "upgrade"})
    survey = pd.DataFrame(
        [
            {"community_id": "basic", "roof": 1},
            {"community_id": "improvement", "greening": 1},
            {"community_id": "upgrade", "childcare": 1},
        ]
    )
    d = run("yulin-2022", comms, survey)["score_breakdown"].map(lambda b: b["deficiencies"])
    assert d["basic"] > d["improvement"] > d["upgrade"]


def test_yulin_hazardous_drainage_and_gas_bonus():
    # Yulin priority items are drainage and gas (六(一)): 15 points x 1/2 for drainage alone.
    comms = frame({"id": "a"}, {"id": "b"})
    survey = pd.DataFrame([{"community_id": "a", "drainage": 1}, {"community_id": "b", "roof": 1}])
    result = run("yulin-2022", comms, survey)
    assert result.loc["a", "score_breakdown"]["priority_items"] == 7.5
    assert result.loc["b", "score_breakdown"]["priority_items"] == 0.0


def test_already_renovated_items_earn_nothing():
    comms = frame({"id": "a"}, {"id": "b"})
    survey = pd.DataFrame(
        [
            {"community_id": "a", "gas": 1, "roof": 1},
            {"community_id": "b", "gas": 1, "roof": 1, "already_renovated": "gas,roof"},
        ]
    )
    result = run("national-2020", comms, survey)
    assert result.loc["b", "score_breakdown"]["deficiencies"] == 0.0
    assert result.loc["b", "score_breakdown"]["priority_items"] == 0.0
    assert result.loc["a", "score"] > result.loc["b", "score"]


def test_lucheng_funds_readiness():
    # Water (basic, 30/m²) on 1000 m² = 30000, residents pay 10 % = 3000. Half collected: 15 x 1/2 = 7.5.
    comms = frame(
        {"id": "full", "floor_area_m2": 1000.0, "funds_collected_yuan": 3000},
        {"id": "half", "floor_area_m2": 1000.0, "funds_collected_yuan": 1500},
        {"id": "none", "floor_area_m2": 1000.0},
    )
    survey = pd.DataFrame([{"community_id": c, "water_supply": 1} for c in ("full", "half", "none")])
    funds = run("lucheng-2020", comms, survey)["score_breakdown"].map(lambda b: b["funds"])
    assert funds.to_dict() == {"full": 15.0, "half": 7.5, "none": 0.0}


def test_mangshi_support_rate_dominates():
    comms = frame({"id": "keen"}, {"id": "lukewarm"})
    survey = pd.DataFrame(
        [{"community_id": "keen", "support_households": 250}, {"community_id": "lukewarm", "support_households": 125}]
    )
    result = run("mangshi-2020", comms, survey)
    assert result.loc["keen", "score_breakdown"]["support"] == 40.0
    assert result.loc["lukewarm", "score_breakdown"]["support"] == 20.0


def test_excluded_scores_zero():
    comms = frame({"id": "a"})
    survey = pd.DataFrame([{"community_id": "a", "gas": 1, "support_households": 250}])
    result = run("national-2020", comms, survey, excluded=("a",))
    assert result.loc["a", "score"] == 0.0 and result.loc["a", "score_breakdown"] == {}


def test_tie_break_households_then_id():
    f = pd.DataFrame(
        {
            "community_id": ["b", "a", "c", "d", "x"],
            "status": ["eligible", "eligible", "conditional", "eligible", "excluded"],
            "score": [50.0, 50.0, 50.0, 60.0, 99.0],
            "households": [100, 100, 300, 10, 500],
        }
    )
    assert rank(f).astype(object).where(rank(f).notna(), None).tolist() == [4, 3, 2, 1, None]
