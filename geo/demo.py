"""``renewal demo``: the whole job on the synthetic sample city, in an embedded store of its own.

The demo store is ``var/demo.sqlite``, made anew on every run (so re-running is safe and never touches the
planner's own store at ``var/renewal.sqlite``). Outputs go to ``--out`` (default ``./out``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from geo.analysis import analyse, load_city, plan_streets, save_plan, street_candidates
from geo.io.cells import csv_frame
from geo.io.importers import import_layer
from geo.policy.profiles import load_profile
from geo.reports.candidates import write_candidates
from geo.stores import open_store
from geo.synthetic.progress import record_sample_progress
from maps.service import render_map

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "boundaries"
DEMO_STORE = Path("var") / "demo.sqlite"
#: The sample city stands in Chuxiong (楚雄市), so its own policy applies unless another profile is asked for.
SAMPLE_PROFILE = "chuxiong-2020"
IMPORT_ORDER = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads")


@dataclass
class DemoResult:
    """What the demo wrote, for the summary and for tests."""

    store_url: str
    outputs: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    units: int = 0
    merged_units: int = 0
    plan_years: int = 0
    plan_version: int = 0


def _safe(name: str) -> str:
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "_", name).strip("_") or "street"


def run_demo(
    *,
    out: Path = Path("out"),
    lang: str = "zh",
    profile_id: str | None = None,
    console: Console | None = None,
    store_path: Path = DEMO_STORE,
    year_from: int = 2026,
    budget_per_year: int = 60_000_000,
) -> DemoResult:
    """Import the sample city, run every analysis, write the outputs, print a summary with the paths."""
    console = console or Console()
    profile = load_profile(profile_id or os.environ.get("RENEWAL_PROFILE") or SAMPLE_PROFILE)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{store_path}"
    store = open_store(url)
    result = DemoResult(store_url=url)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    for layer in IMPORT_ORDER:
        import_layer(store, layer, SAMPLE_DIR / f"{layer}.geojson")
    import_layer(store, "survey", SAMPLE_DIR / "survey.xlsx")
    result.counts = store.counts()

    city = load_city(store)
    analysis = analyse(city, profile=profile, lang=lang)
    result.statuses = analysis.candidates["status"].value_counts().to_dict()

    cand_dir = out / "candidates"
    cand_dir.mkdir(parents=True, exist_ok=True)
    for street in city.street_names():
        cands = street_candidates(analysis, street)
        for fmt in ("xlsx", "geojson"):
            result.outputs.append(
                write_candidates(cands, cand_dir / f"{_safe(street)}.{fmt}", format=fmt, profile=profile, lang=lang)
            )
    all_cands = analysis.candidates.sort_values(["rank", "community_id"], na_position="last")
    result.outputs.append(
        write_candidates(all_cands, out / "candidates_all.csv", format="csv", profile=profile, lang=lang)
    )

    units_path = out / "units.geojson"
    units = analysis.units.assign(members=analysis.units["members"].map(lambda m: ",".join(map(str, m))))
    units.to_crs(4326).to_file(units_path, driver="GeoJSON")
    result.outputs.append(units_path)
    result.units = len(units)
    result.merged_units = int((units["n_members"] > 1).sum())
    scattered_path = out / "scattered_buildings.csv"
    csv_frame(analysis.scattered).to_csv(scattered_path, index=False, encoding="utf-8-sig")
    result.outputs.append(scattered_path)

    plan = plan_streets(analysis, streets=None, year_from=year_from, budget_per_year=budget_per_year)
    params = {"streets": "all", "year_from": year_from, "budget_per_year": budget_per_year}
    result.plan_version = save_plan(store, name="demo", profile=profile.id, params=params, plan=plan)
    result.plan_years = len(plan.years)
    record_sample_progress(store, profile=profile, plan=plan, candidates=analysis.candidates, as_of=dt.date.today())
    years_path = out / "plan_years.csv"
    csv_frame(year_table(plan.years, lang=lang)).to_csv(years_path, index=False, encoding="utf-8-sig")
    packages_path = out / "plan_packages.geojson"
    packages = plan.packages.assign(units=plan.packages["units"].map(lambda m: ",".join(map(str, m))))
    packages.to_crs(4326).to_file(packages_path, driver="GeoJSON")
    result.outputs += [years_path, packages_path]

    for kind in ("plan", "progress"):
        html = render_map(
            store,
            kind=kind,
            profile=profile,
            lang=lang,
            city=city,
            analysis=analysis,
        )
        path = out / f"{kind}_map.html"
        path.write_text(html, encoding="utf-8")
        result.outputs.append(path)

    _summary(
        console,
        result,
        profile_name=profile.name.get(lang),
        lang=lang,
        seconds=time.perf_counter() - started,
        years=plan.years,
    )
    store.dispose()
    return result


YEAR_HEADERS = {
    "year": "年度",
    "packages": "实施包",
    "units": "改造单元",
    "communities": "小区数",
    "conditional_communities": "其中有条件纳入",
    "households": "户数",
    "floor_area_m2": "建筑面积(m²)",
    "cost_yuan": "总投资(元)",
    "residents_yuan": "居民出资(元)",
    "subsidy_yuan": "政府补助(元)",
}


def year_table(years: pd.DataFrame, *, lang: str) -> pd.DataFrame:
    """The per-year plan table with Chinese headers (English with ``lang="en"``), floor area rounded."""
    out = years.copy()
    if "floor_area_m2" in out:
        out["floor_area_m2"] = out["floor_area_m2"].round(0).astype("Int64")
    return out if lang == "en" else out.rename(columns=YEAR_HEADERS)


def _summary(
    console: Console, result: DemoResult, *, profile_name: str, lang: str, seconds: float, years: pd.DataFrame
) -> None:
    en = lang == "en"
    counts = result.counts
    console.print(
        ("Sample city imported: " if en else "示例城市已导入：") + ", ".join(f"{k} {v}" for k, v in counts.items())
    )
    console.print(("Policy profile: " if en else "政策配置：") + profile_name)
    console.print(
        ("Communities by status: " if en else "小区认定结果：")
        + ", ".join(f"{k} {v}" for k, v in sorted(result.statuses.items()))
    )
    console.print(
        f"Units: {result.units} ({result.merged_units} merged 拆墙连片)"
        if en
        else f"改造单元 {result.units} 个（其中拆墙连片 {result.merged_units} 个）"
    )
    years = year_table(years, lang=lang)
    table = Table(title="Plan by year" if en else "分年度计划")
    for col in years.columns:
        table.add_column(str(col))
    for row in years.itertuples(index=False):
        table.add_row(*[str(v) for v in row])
    console.print(table)
    console.print(("Outputs:" if en else "输出文件：") + f" ({seconds:.1f} s)")
    for path in result.outputs:
        console.print(f"  {path}")
    console.print(
        ("Explore the demo store with: " if en else "如需继续查询示例数据库：")
        + f"RENEWAL_DATABASE_URL={result.store_url} renewal ..."
    )
