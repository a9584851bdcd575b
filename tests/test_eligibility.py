"""Eligibility against each seed profile, on small hand-drawn communities around 120.15E 30.27N.

Boxes are drawn in metres in CGCS2000 / 3-degree GK CM 120E (EPSG:4549) and stored in EPSG:4490, like real data.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from geo.policy.eligibility import align_survey, assess
from geo.policy.funding import costs
from geo.policy.profiles import load_profile

X0, Y0 = Transformer.from_crs(4490, 4549, always_xy=True).transform(120.15, 30.27)


def layer(*rows: dict) -> gpd.GeoDataFrame:
    """Rows with x, y (metres from the origin), optional w, h (default 100 m) and attributes."""
    geoms = [
        box(X0 + r["x"], Y0 + r["y"], X0 + r["x"] + r.get("w", 100), Y0 + r["y"] + r.get("h", 100)) for r in rows
    ]
    attrs = pd.DataFrame([{k: v for k, v in r.items() if k not in ("x", "y", "w", "h")} for r in rows])
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=4549).to_crs(4490)


def community(cid: str, year: int | None, x: float, **extra) -> dict:
    return {
        "id": cid,
        "name": f"小区{cid}",
        "street": "江滨街道",
        "year_built": year,
        "households": 90,
        "floor_area_m2": 5000.0,
        "x": x,
        "y": 0,
        **extra,
    }


def run(profile_id: str, comms, *, buildings=None, zones=None, survey=None, lang="zh") -> pd.DataFrame:
    out = assess(comms, buildings=buildings, zones=zones, survey=survey, profile=load_profile(profile_id), lang=lang)
    return out.set_index(comms["id"])


def roofs(comms) -> pd.DataFrame:
    """A survey finding the roof deficient in every community (an item on every seed's menu)."""
    return pd.DataFrame({"community_id": comms["id"], "roof": "是"})


def codes(result: pd.DataFrame, cid: str) -> list[str]:
    return [r["code"] for r in result.loc[cid, "reasons"]]


@pytest.mark.parametrize(
    ("profile_id", "last_in", "first_out"),
    [
        ("lucheng-2020", 1999, 2000),
        ("chuxiong-2020", 1999, 2000),
        ("mangshi-2020", 1999, 2000),
        ("jingyuan-2023", 1999, 2000),
        ("national-2020", 2000, 2001),
    ],
)
def test_cutoff_edge(profile_id, last_in, first_out):
    comms = layer(
        community("in", last_in, 0, property_management=True),
        community("out", first_out, 1000, property_management=True),
    )
    result = run(profile_id, comms, survey=roofs(comms))
    assert result.loc["in", "status"] == "eligible"
    assert result.loc["out", "status"] == "excluded"
    assert codes(result, "out") == ["built_after_cutoff"]
    assert f"建成于{first_out}年" in result.loc["out", "reasons"][0]["text"]


def test_yulin_2000_in_and_2001_onwards_conditional_with_no_upper_year():
    # 四(一): "2001年以后建成且符合改造条件的老旧小区，可按年度改造任务一定比例纳入" names no last year (2001–2005
    # is only the 2025 goal of 二), so a 2006 compound with a deficiency is admitted like a 2001 one.
    comms = layer(community("y2000", 2000, 0), community("y2001", 2001, 1000), community("y2006", 2006, 2000))
    result = run("yulin-2022", comms, survey=roofs(comms))
    assert result["status"].to_dict() == {"y2000": "eligible", "y2001": "conditional", "y2006": "conditional"}
    reason = result.loc["y2006", "reasons"][0]
    assert reason["code"] == "extension:yulin_post_2000_share"
    assert reason["source"].startswith("玉政办发〔2022〕13号 四(一)：2001年以后建成且符合改造条件的老旧小区")


def test_lucheng_post_1999_needs_all_three_conditions():
    # Both built 2003 without property management; 60/90 = exactly 2/3 support passes.
    comms = layer(
        community("ok", 2003, 0, property_management="否"),
        community("few_items", 2003, 1000, property_management="否"),
        community("managed", 2003, 2000, property_management="是"),
    )
    survey = pd.DataFrame(
        [
            {"community_id": "ok", "drainage": "是", "water_supply": "是", "roof": "是", "support_households": 60},
            {
                "community_id": "few_items",
                "drainage": "是",
                "water_supply": "是",
                "roof": "是",
                "support_households": 60,
                "already_renovated": "屋面",
            },
            {
                "community_id": "managed",
                "drainage": "是",
                "water_supply": "是",
                "roof": "是",
                "support_households": 60,
            },
        ]
    )
    result = run("lucheng-2020", comms, survey=survey)
    assert result.loc["ok", "status"] == "conditional"
    assert codes(result, "ok") == ["extension:lucheng_post_1999"]
    # The renovated roof no longer counts: only 2 mandatory/basic items remain, so the extension fails.
    assert result.loc["few_items", "status"] == "excluded"
    assert result.loc["managed", "status"] == "excluded"


def test_lucheng_support_just_below_two_thirds_fails():
    comms = layer(community("c", 2003, 0, property_management=False))
    survey = pd.DataFrame(
        [{"community_id": "c", "drainage": 1, "water_supply": 1, "roof": 1, "support_households": 59}]
    )
    assert run("lucheng-2020", comms, survey=survey).loc["c", "status"] == "excluded"


def test_zone_exclusion_names_zone_and_share():
    comms = layer(community("v40", 1990, 0), community("v20", 1990, 1000), community("demo", 1990, 2000))
    zones = layer(
        {"id": "z1", "name": "东门城中村", "kind": "urban_village", "x": 60, "y": -50, "w": 200, "h": 200},
        {"id": "z2", "name": "西郊城中村", "kind": "urban_village", "x": 1080, "y": -50, "w": 200, "h": 200},
        {"id": "z3", "name": "北站拆迁片", "kind": "demolition", "x": 1950, "y": -50, "w": 300, "h": 300},
    )
    result = run("chuxiong-2020", comms, zones=zones, survey=roofs(comms))
    assert result.loc["v40", "status"] == "excluded"
    reason = next(r for r in result.loc["v40", "reasons"] if r["code"] == "zone:urban_village")
    assert reason["text"] == "40.0%的面积位于城中村“东门城中村”内（超过30%）"
    assert reason["source"].startswith("楚市政办通〔2020〕5号 三(一)")
    # 20 % overlap is under the 30 % share; a demolition zone is not one of Chuxiong's excluded kinds.
    assert result.loc["v20", "status"] == "eligible"
    assert result.loc["demo", "status"] == "eligible"
    # Mangshi excludes demolition areas (不宜整体拆除重建) but not urban villages.
    mangshi = run("mangshi-2020", comms, zones=zones, survey=roofs(comms))
    assert mangshi["status"].to_dict() == {"v40": "eligible", "v20": "eligible", "demo": "excluded"}


@pytest.mark.parametrize(
    ("profile_id", "kind"),
    [("jingyuan-2023", "shantytown"), ("yulin-2022", "demolition"), ("lucheng-2020", "self_built")],
)
def test_zone_exclusion_per_profile(profile_id, kind):
    comms = layer(community("c", 1990, 0))
    zones = layer({"id": "z", "name": "片区甲", "kind": kind, "x": 50, "y": 0, "w": 100, "h": 100})
    result = run(profile_id, comms, zones=zones)
    assert result.loc["c", "status"] == "excluded"
    assert f"zone:{kind}" in codes(result, "c")
    assert "50.0%" in result.loc["c", "reasons"][0]["text"]


def test_lucheng_dangerous_and_hollow_core_buildings():
    comms = layer(community("c_grade", 1990, 0), community("slab", 1990, 1000), community("fine", 1990, 2000))
    buildings = layer(
        {"id": "B-7", "community_id": "c_grade", "safety_grade": "C", "x": 10, "y": 10, "w": 20, "h": 20},
        {"id": "B-8", "community_id": "c_grade", "safety_grade": "B", "x": 50, "y": 10, "w": 20, "h": 20},
        # No community_id: assigned by location.
        {"id": "B-9", "safety_grade": "B", "hollow_core_slab": "是", "x": 1010, "y": 10, "w": 20, "h": 20},
        {
            "id": "B-10",
            "community_id": "fine",
            "safety_grade": "B",
            "hollow_core_slab": "否",
            "x": 2010,
            "y": 10,
            "w": 20,
            "h": 20,
        },
    )
    result = run("lucheng-2020", comms, buildings=buildings, survey=roofs(comms))
    assert result["status"].to_dict() == {"c_grade": "excluded", "slab": "excluded", "fine": "eligible"}
    assert result.loc["c_grade", "reasons"][0] == {
        "code": "dangerous_building",
        "text": "楼栋 B-7 为C/D级危房",
        "source": "温鹿政办〔2020〕21号 二(一)：存在C、D级危旧房……安全隐患的老旧小区原则上不纳入老旧小区改造范畴",
    }
    assert result.loc["slab", "reasons"][0]["text"] == "楼栋 B-9 存在多孔板结构安全隐患"
    # Chuxiong has no building-grade rule: the same buildings do not exclude.
    assert (run("chuxiong-2020", comms, buildings=buildings, survey=roofs(comms))["status"] == "eligible").all()


def test_jingyuan_closely_connected_post_2000():
    comms = layer(community("old", 1990, 0), community("near", 2005, 110), community("far", 2005, 240))
    survey = pd.DataFrame(
        [
            {"community_id": "old", "water_supply": "是"},
            {"community_id": "near", "road": "是", "support_households": 60},
            {"community_id": "far", "road": "是", "support_households": 90},
        ]
    )
    result = run("jingyuan-2023", comms, survey=survey)
    # 10 m from a compound with a renovation task, 60/90 = 2/3 support, roads deficient: admitted on conditions;
    # 40 m away: out.
    assert result.loc["near", "status"] == "conditional"
    assert codes(result, "near") == ["extension:jingyuan_closely_connected"]
    assert result.loc["near", "reasons"][0]["source"].startswith("靖政发〔2023〕75号 三(一)：对个别建于2000年以后")
    assert result.loc["far", "status"] == "excluded"


def test_jingyuan_neighbour_must_have_a_renovation_task_and_the_compound_a_need():
    # 三(一) "与有改造任务的小区（楼宇）紧密相连……有改造必要": three post-2000 compounds, each 10 m from an old one.
    #   touch_excluded: its neighbour (1990) lies wholly in a demolition area, so it has no renovation task;
    #   touch_sound: its neighbour (1990) was surveyed with nothing deficient, so it has no renovation task;
    #   no_need: its neighbour has a task, but it has nothing deficient itself.
    comms = layer(
        community("old_excluded", 1990, 0),
        community("touch_excluded", 2005, 110),
        community("old_sound", 1990, 1000),
        community("touch_sound", 2005, 1110),
        community("old_task", 1990, 2000),
        community("no_need", 2005, 2110),
    )
    zones = layer({"id": "z", "name": "北关拆迁片", "kind": "demolition", "x": -10, "y": -10, "w": 110, "h": 120})
    survey = pd.DataFrame(
        [
            {"community_id": "old_excluded", "water_supply": "是"},
            {"community_id": "touch_excluded", "road": "是", "support_households": 90},
            {"community_id": "old_sound"},
            {"community_id": "touch_sound", "road": "是", "support_households": 90},
            {"community_id": "old_task", "gas": "是"},
            {"community_id": "no_need", "support_households": 90},
        ]
    )
    result = run("jingyuan-2023", comms, zones=zones, survey=survey)
    assert result.loc["old_excluded", "status"] == "excluded"
    assert result.loc["old_sound", "status"] == "excluded" and codes(result, "old_sound")[0] == "no_deficiency"
    assert result.loc["old_task", "status"] == "eligible"
    for cid in ("touch_excluded", "touch_sound", "no_need"):
        assert result.loc[cid, "status"] == "excluded", cid
        assert "built_after_cutoff" in codes(result, cid)
    assert "no_deficiency" in codes(result, "no_need")


def test_jingyuan_mixed_compound_three_conditions():
    comms = layer(community("pipes", 1995, 0), community("none", 1995, 1000), community("plain", 1995, 2000))
    buildings = layer(
        {"id": "P1", "community_id": "pipes", "year_built": 2003, "x": 10, "y": 10, "w": 20, "h": 20},
        {"id": "N1", "community_id": "none", "year_built": 2004, "x": 1010, "y": 10, "w": 20, "h": 20},
        {"id": "Q1", "community_id": "plain", "year_built": 1995, "x": 2010, "y": 10, "w": 20, "h": 20},
    )
    survey = pd.DataFrame(
        [
            {"community_id": "pipes", "heating": "是"},
            {"community_id": "none", "greening": "是"},
            {"community_id": "plain", "roof": "是"},
        ]
    )
    result = run("jingyuan-2023", comms, buildings=buildings, survey=survey)
    assert result.loc["pipes", "status"] == "conditional"
    pipes = next(r for r in result.loc["pipes", "reasons"] if r["code"] == "extension:jingyuan_three_conditions")
    assert "条件1" in pipes["text"] and pipes["source"] == "靖政发〔2023〕75号 三(二)"
    assert result.loc["none", "status"] == "conditional"
    assert "N1" in next(r["text"] for r in result.loc["none", "reasons"] if r["code"].startswith("not_admitted"))
    assert result.loc["plain", "status"] == "eligible"


def test_missing_year_is_conditional_and_renovated_items_noted():
    comms = layer(community("unknown", None, 0), community("redone", 1990, 1000))
    survey = pd.DataFrame(
        [
            {"community_id": "unknown", "gas": "是"},
            {"community_id": "redone", "roof": "是", "gas": "是", "already_renovated": "roof、外立面"},
        ]
    )
    result = run("national-2020", comms, survey=survey)
    assert result.loc["unknown", "status"] == "conditional"
    assert codes(result, "unknown") == ["year_missing"]
    assert result.loc["redone", "status"] == "eligible"
    renovated = next(r for r in result.loc["redone", "reasons"] if r["code"] == "already_renovated")
    assert renovated["text"] == "已改造项目不再计分：外立面、屋面"


# --- 4. deficits define the target ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile_id", "wording"),
    [
        ("chuxiong-2020", "公共设施落后影响居民基本生活"),
        ("mangshi-2020", "配套设施不全或破损严重"),
        ("jingyuan-2023", "基础配套设施缺失"),
        ("yulin-2022", "市政配套设施不完善"),
        ("lucheng-2020", "存在改造需求"),
        ("national-2020", "市政配套设施不完善"),
    ],
)
def test_nothing_deficient_is_not_a_target_and_no_survey_is_conditional(profile_id, wording):
    # Three 1990 compounds: one with a leaking roof, one surveyed with nothing deficient, one never surveyed.
    comms = layer(community("leaky", 1990, 0), community("sound", 1990, 1000), community("unsurveyed", 1990, 2000))
    survey = pd.DataFrame([{"community_id": "leaky", "roof": "是"}, {"community_id": "sound", "roof": "否"}])
    result = run(profile_id, comms, survey=survey)
    assert result["status"].to_dict() == {"leaky": "eligible", "sound": "excluded", "unsurveyed": "conditional"}
    assert codes(result, "sound") == ["no_deficiency", "built_before_cutoff"]
    sound = result.loc["sound", "reasons"][0]
    assert sound["text"] == "调查未发现需改造的设施缺项（改造清单内且未改造），不属于改造对象"
    assert wording in sound["source"]
    assert codes(result, "unsurveyed") == ["not_surveyed", "built_before_cutoff"]
    assert result.loc["unsurveyed", "reasons"][0]["text"].startswith("未调查")


def test_deficiencies_that_do_not_count_leave_nothing_to_renovate():
    # Chuxiong's menu has no heating (四 "改造内容不能超出以下方面"); a roof already renovated earns nothing again.
    comms = layer(community("heat", 1990, 0), community("redone", 1990, 1000))
    survey = pd.DataFrame(
        [
            {"community_id": "heat", "heating": "是"},
            {"community_id": "redone", "roof": "是", "already_renovated": "屋面"},
        ]
    )
    result = run("chuxiong-2020", comms, survey=survey)
    assert result["status"].to_dict() == {"heat": "excluded", "redone": "excluded"}
    assert "no_deficiency" in codes(result, "heat") and "no_deficiency" in codes(result, "redone")


def test_chuxiong_childcare_elderly_and_health_facilities_are_on_the_menu():
    # 七(十)–(十二): 托幼、养老、医疗设施 "整合到城镇老旧小区改造项目中一并实施".
    comms = layer(*(community(c, 1990, 1000 * k) for k, c in enumerate(["kids", "elders", "clinic"])))
    survey = pd.DataFrame(
        [
            {"community_id": "kids", "childcare": "是"},
            {"community_id": "elders", "elderly_care": "是"},
            {"community_id": "clinic", "health_station": "是"},
        ]
    )
    assert (run("chuxiong-2020", comms, survey=survey)["status"] == "eligible").all()
    money = costs(comms, survey=survey, profile=load_profile("chuxiong-2020"))
    assert (money["cost_yuan"] > 0).all()
    assert all(set(b) == {"environment"} for b in money["cost_breakdown"])  # 四(三) 公共设施


def test_english_reasons():
    comms = layer(community("late", 2001, 0), community("v", 1990, 1000))
    zones = layer({"id": "z", "name": "Dongmen", "kind": "urban_village", "x": 1000, "y": 0, "w": 100, "h": 100})
    result = run("lucheng-2020", comms, zones=zones, survey=roofs(comms), lang="en")
    assert result.loc["late", "reasons"][0]["text"] == (
        "Built in 2001: later than the cutoff (built in 1999 or earlier) and no extension rule applies"
    )
    assert (
        result.loc["v", "reasons"][0]["text"] == "100.0% of its area lies in urban village “Dongmen” (more than 30%)"
    )


def test_survey_matched_by_name_and_street():
    comms = layer(community("a", 1990, 0), community("b", 1990, 1000))
    survey = pd.DataFrame([{"name": "小区b", "street": "江滨街道", "gas": "true", "support_households": "45"}])
    aligned = align_survey(comms, survey=survey)
    assert aligned["gas"].tolist() == [False, True]
    assert aligned["support_households"].iloc[1] == 45
