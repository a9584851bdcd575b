"""Implementation packages and yearly batches: contiguity, priority, budget, count targets and planner pins."""

from __future__ import annotations

from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from scipy.sparse.csgraph import connected_components
from shapely.geometry import box

from geo.errors import DataError
from geo.space.adjacency import adjacency, adjacency_matrix
from geo.space.batches import plan_street
from geo.space.units import MergeRules, Pins, merge_units
from tests.conftest import REALDATA

GK = 4549  # CGCS2000 3-degree GK zone, central meridian 120E
X0, Y0 = pyproj.Transformer.from_crs(4490, GK, always_xy=True).transform(120.15, 30.27)
MILLION = 1_000_000

# C1..C6 stand wall to wall in a row; C7 is 500 m away. Every compound has 400 households (viable alone), so each
# is its own unit. Costs in yuan; scores fall from C1 to C7.
ROWS = [(100 * k, 0, 100 * k + 100, 100) for k in range(6)] + [(1200, 0, 1300, 100)]
COSTS = [3 * MILLION, 2 * MILLION, 2 * MILLION, 4 * MILLION, 1 * MILLION, 5 * MILLION, 7 * MILLION]
COMMUNITIES = gpd.GeoDataFrame(
    {
        "id": [f"C{k + 1}" for k in range(7)],
        "street": ["湖滨街道"] * 7,
        "households": [400] * 7,
        "floor_area_m2": [28_000.0] * 7,
        "status": ["eligible"] * 7,
        "score": [90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0],
        "cost_yuan": COSTS,
        "residents_yuan": [c // 10 for c in COSTS],
        "subsidy_yuan": [c - c // 10 for c in COSTS],
    },
    geometry=[box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in ROWS],
    crs=GK,
).to_crs(4490)
RULES = MergeRules(min_households=300, max_households=2000)


def year_of(plan, unit_id: str) -> int:
    return int(plan.units.set_index("unit_id").loc[unit_id, "year"])


def test_packages_are_contiguous_priority_ordered_and_years_stay_within_budget():
    units, _ = merge_units(COMMUNITIES, rules=RULES)
    plan = plan_street(units, year_from=2025, budget_per_year=6 * MILLION, package_max_units=2)
    packages = plan.packages.set_index("package_id")
    # C1 seeds and takes C2 (5 M); C3 + C4 = 6 M; C5 + C6 = 6 M; C7 alone costs more than a year's budget.
    assert packages["units"].to_dict() == {
        "P-C1": ["U-C1", "U-C2"],
        "P-C3": ["U-C3", "U-C4"],
        "P-C5": ["U-C5", "U-C6"],
        "P-C7": ["U-C7"],
    }
    assert packages["year"].to_dict() == {"P-C1": 2025, "P-C3": 2026, "P-C5": 2027, "P-C7": 2028}
    assert packages.loc["P-C1", "score"] == pytest.approx(85.0)
    years = plan.years.set_index("year")
    assert years["cost_yuan"].to_dict() == {
        2025: 5 * MILLION,
        2026: 6 * MILLION,
        2027: 6 * MILLION,
        2028: 7 * MILLION,
    }
    assert years.loc[2026, "communities"] == 2 and years.loc[2026, "households"] == 800
    assert years.loc[2026, "subsidy_yuan"] == 5_400_000
    assert plan.warnings == ["项目包P-C7投资7,000,000元，超过单年预算（6,000,000元），单独安排在2028年"]
    assert year_of(plan, "U-C4") == 2026


def test_packages_never_join_units_that_are_not_neighbours():
    units, _ = merge_units(COMMUNITIES, rules=RULES)
    plan = plan_street(units, year_from=2025, budget_per_year=None, package_max_units=10)
    assert sorted(plan.packages["units"].map(tuple)) == [
        ("U-C1", "U-C2", "U-C3", "U-C4", "U-C5", "U-C6"),
        ("U-C7",),
    ]
    assert plan.packages["year"].tolist() == [2025, 2025]


def test_count_targets_per_year():
    units, _ = merge_units(COMMUNITIES, rules=RULES)
    plan = plan_street(
        units, year_from=2025, budget_per_year=None, count_per_year={2025: 2, 2026: 2}, package_max_units=2, lang="en"
    )
    assert plan.packages.set_index("package_id")["year"].to_dict() == {
        "P-C1": 2025,
        "P-C3": 2026,
        "P-C5": 2027,
        "P-C7": 2027,
    }
    assert plan.years["communities"].tolist() == [2, 2, 3]
    assert plan.warnings == ["2 packages (3 communities) fall after 2026, the last year with a count target"]


def test_pinned_community_stays_in_its_unit_and_year():
    pins = Pins(unit={"C5": "U-东", "C6": "U-东"}, year={"C6": 2025})
    units, membership = merge_units(COMMUNITIES, rules=RULES, pins=pins)
    assert membership.set_index("community_id").loc["C6", "unit_id"] == "U-东"
    plan = plan_street(units, year_from=2025, budget_per_year=6 * MILLION, pins=pins, package_max_units=2)
    # U-东 (6 M) fills 2025 by pin, so the top-priority package moves to 2026.
    assert year_of(plan, "U-东") == 2025
    assert plan.packages.set_index("package_id")["year"].to_dict() == {
        "P-东": 2025,
        "P-C1": 2026,
        "P-C3": 2027,
        "P-C7": 2028,
    }
    within = plan.years[plan.years["year"] != 2028]
    assert (within["cost_yuan"] <= 6 * MILLION).all()


def test_excluded_community_keeps_its_unit_out_of_the_plan():
    units, _ = merge_units(COMMUNITIES, rules=RULES)
    plan = plan_street(units, year_from=2025, budget_per_year=None, pins=Pins(exclude=frozenset({"C3"})))
    row = plan.units.set_index("unit_id").loc["U-C3"]
    assert pd.isna(row["year"]) and pd.isna(row["package_id"])
    assert "U-C3" not in {u for us in plan.packages["units"] for u in us}
    assert plan.warnings == ["改造单元U-C3含指定排除的小区（C3），整单元未列入计划"]


def test_members_of_one_unit_pinned_to_different_years_are_refused():
    pins = Pins(unit={"C5": "U-东", "C6": "U-东"}, year={"C5": 2025, "C6": 2026})
    units, _ = merge_units(COMMUNITIES, rules=RULES, pins=pins)
    with pytest.raises(DataError):
        plan_street(units, year_from=2025, budget_per_year=None, pins=pins)


def test_real_hangzhou_plan_keeps_units_whole_and_years_within_budget():
    path = REALDATA / "hangzhou_residential_osm.gpkg"
    raw = gpd.read_file(path).to_crs(4490)
    rng = np.random.default_rng(7)
    n = len(raw)
    households = rng.integers(40, 900, n)
    communities = gpd.GeoDataFrame(
        {
            "id": [f"HZ{k:04d}" for k in range(n)],
            "street": "杭州",
            "households": households,
            "floor_area_m2": households * 65.0,
            "status": rng.choice(["eligible", "excluded"], n, p=[0.7, 0.3]),
            "score": np.round(rng.uniform(0, 100, n), 1),
            "cost_yuan": households * 20_000,
            "residents_yuan": households * 2_000,
            "subsidy_yuan": households * 18_000,
        },
        geometry=raw.geometry.values,
        crs=4490,
    )
    units, _ = merge_units(communities, rules=MergeRules(min_households=300, max_households=1500))
    budget = 200 * MILLION
    plan = plan_street(units, year_from=2025, budget_per_year=budget, package_max_units=5)
    in_packages = [u for us in plan.packages["units"] for u in us]
    assert sorted(in_packages) == sorted(units["unit_id"])  # every unit in exactly one package, none split
    assert plan.units["year"].notna().all()
    # A year may only pass the budget when it holds a single package that alone costs more (with a warning).
    oversized = plan.packages[plan.packages["cost_yuan"] > budget]
    assert not any("超过单年预算" in w for w in plan.warnings) and oversized.empty
    # 13.9 billion yuan of works at 200 million a year: said once, with the years it takes.
    span = int(plan.years["year"].max()) - 2025 + 1
    assert [w for w in plan.warnings if "预算远小于总投资" in w] == [
        f"按每年预算200,000,000元，全部实施需要{span}年（至{2024 + span}年）：预算远小于总投资"
        f"{int(units['cost_yuan'].sum()):,}元（约为{units['cost_yuan'].sum() / budget:.0f}年的预算）"
    ]
    within = plan.years[~plan.years["year"].isin(oversized["year"].astype(int))]
    assert (within["cost_yuan"] <= budget).all()
    assert plan.years["cost_yuan"].sum() == units["cost_yuan"].sum()
    neighbours = adjacency(units.rename(columns={"unit_id": "id"})[["id", "street", "geometry"]], gap_m=15.0)
    graph = adjacency_matrix(neighbours, ids=units["unit_id"].tolist())
    position = {u: k for k, u in enumerate(units["unit_id"])}
    for members in plan.packages["units"]:
        rows = [position[u] for u in members]
        assert connected_components(graph[rows][:, rows], directed=False)[0] == 1, members


def test_a_multi_year_target_is_a_total_over_its_years():
    # 芒政办发〔2020〕28号 二(一): 105 communities "从2019年至2021年" — a total for the three years, not 105 a year.
    # Here 3 communities over 2025–2026 together. P-C1 (2) takes 2025; P-C3 (2) would make 4 > 3 in the span in
    # either year, so it goes to 2027, the first year outside the target, and so does P-C5; P-C7 (1) takes the
    # span's last place in 2025. A per-year reading would have put P-C3 in 2026.
    units, _ = merge_units(COMMUNITIES, rules=RULES)
    plan = plan_street(
        units, year_from=2025, budget_per_year=None, count_targets=[((2025, 2026), 3)], package_max_units=2
    )
    assert plan.packages.set_index("package_id")["year"].to_dict() == {
        "P-C1": 2025,
        "P-C3": 2027,
        "P-C5": 2027,
        "P-C7": 2025,
    }
    assert plan.years.set_index("year")["communities"].to_dict() == {2025: 3, 2026: 0, 2027: 4}
    per_year = plan_street(
        units, year_from=2025, budget_per_year=None, count_per_year={2025: 3, 2026: 3}, package_max_units=2
    )
    assert per_year.years.set_index("year")["communities"].to_dict() == {2025: 3, 2026: 2, 2027: 2}


# Ten eligible compounds and four admitted on Yulin's share (四(一)), each 400 households (a unit of its own) and
# 200 m apart (a package of its own), no budget: all go into 2026, the four capped ones only within 1/5 of it.
SPREAD = gpd.GeoDataFrame(
    {
        "id": [f"E{k:02d}" for k in range(10)] + [f"Y{k}" for k in range(4)],
        "street": ["玉城街道"] * 14,
        "households": [400] * 14,
        "floor_area_m2": [28_000.0] * 14,
        "status": ["eligible"] * 10 + ["conditional"] * 4,
        "score": [90.0 - k for k in range(10)] + [95.0, 94.0, 93.0, 92.0],
        "cost_yuan": [MILLION] * 14,
        "residents_yuan": [0] * 14,
        "subsidy_yuan": [MILLION] * 14,
    },
    geometry=[box(X0 + 300 * k, Y0, X0 + 300 * k + 100, Y0 + 100) for k in range(14)],
    crs=GK,
).to_crs(4490)


def test_conditional_share_caps_each_year():
    units, _ = merge_units(SPREAD, rules=RULES)
    units["n_share_capped"] = units["n_conditional"]
    plan = plan_street(units, year_from=2026, budget_per_year=None, conditional_share=Fraction(1, 5))
    years = plan.units.set_index("unit_id")["year"]
    # Highest scores first (Y0..Y3 score 95–92), but a capped one fits only while capped ≤ 1/5 of the year's
    # communities, itself included: 1 of 11 and 2 of 12 fit, 3 of 13 does not (3 > 2.6), nor does a year alone.
    assert years[[f"U-E{k:02d}" for k in range(10)]].tolist() == [2026] * 10
    assert years[["U-Y0", "U-Y1"]].tolist() == [2026, 2026]
    assert years[["U-Y2", "U-Y3"]].isna().all()
    row = plan.years.set_index("year").loc[2026]
    assert (row["communities"], row["conditional_communities"]) == (12, 2)
    # Said once for both packages, naming them (not one line per package).
    assert len(plan.warnings) == 1 and "2个项目包" in plan.warnings[0] and "暂未列入年度计划" in plan.warnings[0]
    assert "U-Y2".replace("U-", "P-") in plan.warnings[0] and "P-Y3" in plan.warnings[0]
    # Without a share they all go in.
    free = plan_street(units, year_from=2026, budget_per_year=None)
    assert free.years.set_index("year").loc[2026, "conditional_communities"] == 4


def test_conditional_share_waits_for_the_year_to_grow():
    # A budget of 5 M a year (1 M each). The capped ones score highest but wait: 1 capped in a year needs 4 others
    # beside it (1 of 5 = 1/5 exactly passes). 2026 gets E00–E03, then Y0 as the fifth; 2027 E04–E07, then Y1;
    # 2028 holds E08 and E09 only (1 of 3 would exceed 1/5), so Y2 and Y3 wait unscheduled.
    units, _ = merge_units(SPREAD, rules=RULES)
    units["n_share_capped"] = units["n_conditional"]
    plan = plan_street(units, year_from=2026, budget_per_year=5 * MILLION, conditional_share=Fraction(1, 5))
    table = plan.years.set_index("year")
    assert table["communities"].to_dict() == {2026: 5, 2027: 5, 2028: 2}
    assert table["conditional_communities"].to_dict() == {2026: 1, 2027: 1, 2028: 0}
    years = plan.units.set_index("unit_id")["year"]
    assert years[["U-Y0", "U-Y1"]].tolist() == [2026, 2027]
