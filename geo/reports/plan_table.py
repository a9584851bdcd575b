"""The plan table (计划表): which compound is renovated in which year, in which unit and package, doing what.

One row per planned compound: 街道, 社区, 小区, 改造单元, 项目包, 计划年度, 改造内容 (the deficient items still
to do, by the policy's categories), 投资估算, 居民出资, 财政补助, 户数, 建筑面积 and 认定依据 (status with its
reasons and their sources). The XLSX subtotals each year of each street and each street, with a summary sheet
by year (and street within the year); the CSV holds the same rows without subtotals. The yearly totals table
(plan_years.csv and the demo's summary) is here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geo.model import DEFICIENCY_ITEMS
from geo.policy.eligibility import align_survey, effective_deficiencies
from geo.policy.profiles import Lang, Profile
from geo.reports.candidates import reasons_text
from geo.reports.csvfile import write_csv
from geo.reports.labels import STATUS, word
from geo.reports.xlsx import Book, Context, columns_of

PLAN_COLUMNS: dict[str, tuple[str, str, str]] = {
    "street": ("街道", "Street", "text"),
    "neighbourhood": ("社区", "Neighbourhood", "text"),
    "community_id": ("小区编号", "Community ID", "text"),
    "name": ("小区", "Community", "text"),
    "unit_id": ("改造单元", "Unit", "text"),
    "package_id": ("项目包", "Package", "text"),
    "year": ("计划年度", "Plan year", "year"),
    "content": ("改造内容", "Works", "wrap"),
    "cost_yuan": ("投资估算（元）", "Cost (yuan)", "yuan"),
    "cost_wan": ("投资估算（万元）", "Cost (10,000 yuan)", "wan"),
    "residents_yuan": ("居民出资（元）", "Residents (yuan)", "yuan"),
    "subsidy_yuan": ("财政补助（元）", "Subsidy (yuan)", "yuan"),
    "households": ("户数", "Households", "count"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)", "area"),
    "basis": ("认定依据", "Basis", "wrap"),
}
WIDTHS = {"name": 18, "content": 46, "basis": 60, "unit_id": 11, "package_id": 11}
SUMMARY_COLUMNS: dict[str, tuple[str, str, str]] = {
    "year": ("年度", "Year", "year"),
    "street": ("街道", "Street", "text"),
    "packages": ("项目包", "Packages", "count"),
    "units": ("改造单元", "Units", "count"),
    "communities": ("小区数", "Communities", "count"),
    "households": ("户数", "Households", "count"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)", "area"),
    "cost_wan": ("投资估算（万元）", "Cost (10,000 yuan)", "wan"),
    "residents_wan": ("居民出资（万元）", "Residents (10,000 yuan)", "wan"),
    "subsidy_wan": ("财政补助（万元）", "Subsidy (10,000 yuan)", "wan"),
}
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
    """The per-year plan totals with Chinese headers (English with ``lang="en"``), floor area rounded."""
    out = years.copy()
    if "floor_area_m2" in out:
        out["floor_area_m2"] = out["floor_area_m2"].round(0).astype("Int64")
    return out if lang == "en" else out.rename(columns=YEAR_HEADERS)


def write_year_table(years: pd.DataFrame, path: str | Path, *, lang: str) -> Path:
    """The per-year totals as CSV for Excel (plan_years.csv)."""
    table = year_table(years, lang=lang)
    return write_csv(table, list(table.columns), path)


def works(communities: pd.DataFrame, *, survey: pd.DataFrame | None, profile: Profile, lang: Lang) -> pd.Series:
    """改造内容 per community id: the deficient items still to do, grouped by the profile's categories in menu
    order (安全工程：消防、安防；功能提升：供水). Communities without survey answers say so."""
    deficient = effective_deficiencies(align_survey(communities, survey=survey), profile=profile)
    primary = profile.content.primary()
    k = 1 if lang == "en" else 0
    groups = [
        (cat.label(lang), [i for i in DEFICIENCY_ITEMS if primary[i] == cat.code])
        for cat in profile.content.categories
    ]
    sep, colon, comma = ("; ", ": ", ", ") if lang == "en" else ("；", "：", "、")
    matrix = {i: deficient[i].to_numpy() for i in DEFICIENCY_ITEMS}
    texts = []
    for row in range(len(communities)):
        parts = []
        for label, items in groups:
            found = [DEFICIENCY_ITEMS[i][k] for i in items if matrix[i][row]]
            if found:
                parts.append(f"{label}{colon}{comma.join(found)}")
        texts.append(sep.join(parts))
    out = pd.Series(texts, index=communities["id"].astype(str).to_numpy(), dtype=object)
    surveyed = _surveyed(communities, survey)
    none = "no survey answers" if lang == "en" else "无调查数据"
    nothing = "no deficient item recorded" if lang == "en" else "调查未发现缺项"
    out[:] = np.where(out.to_numpy() != "", out.to_numpy(), np.where(surveyed, nothing, none))
    return out


def _surveyed(communities: pd.DataFrame, survey: pd.DataFrame | None) -> np.ndarray:
    if survey is None or survey.empty or "community_id" not in survey:
        return np.zeros(len(communities), dtype=bool)
    return communities["id"].astype(str).isin(set(survey["community_id"].dropna().astype(str))).to_numpy()


def plan_members(
    plan_units: pd.DataFrame | None, columns: Sequence[str] = ("unit_id", "package_id", "year")
) -> pd.DataFrame:
    """Per community of a plan's units (index ``community_id``, as text): its unit's ``columns``.

    Every map, list and table that says which unit, package or year a compound is in reads it here. A unit kept
    out of the plan (by a pin) still names its members, with an empty ``year``.
    """
    if plan_units is None or plan_units.empty:
        return pd.DataFrame(columns=list(columns), index=pd.Index([], name="community_id"))
    members = plan_units[["members", *columns]].explode("members").dropna(subset=["members"])
    members["members"] = members["members"].astype(str)
    return members.drop_duplicates("members").set_index("members").rename_axis("community_id")


def plan_rows(candidates: pd.DataFrame, plan_units: pd.DataFrame, *, works: pd.Series, lang: Lang) -> pd.DataFrame:
    """One row per planned community (keys of :data:`PLAN_COLUMNS`), by street, year, package, unit and id."""
    members = plan_members(plan_units).dropna(subset=["year"]).reset_index()
    cands = candidates.drop(columns=["unit_id", "geometry"], errors="ignore")
    rows = members.merge(pd.DataFrame(cands), on="community_id", how="left")
    rows["year"] = rows["year"].astype("Int64")
    rows["content"] = rows["community_id"].map(works).astype(object)
    rows["cost_wan"] = pd.to_numeric(rows["cost_yuan"], errors="coerce") / 10_000
    status = [word(STATUS, s, lang) for s in rows["status"]]
    rows["basis"] = [
        f"{s}{':' if lang == 'en' else '：'}\n{reasons_text(r, lang)}"
        for s, r in zip(status, rows["reasons"], strict=True)
    ]
    rows = rows.sort_values(["street", "year", "package_id", "unit_id", "community_id"], kind="stable")
    return rows[list(PLAN_COLUMNS)].reset_index(drop=True)


def year_street_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Totals per year and street (keys of :data:`SUMMARY_COLUMNS`), by year then street."""
    grouped = (
        rows.assign(
            residents_yuan=pd.to_numeric(rows["residents_yuan"], errors="coerce"),
            subsidy_yuan=pd.to_numeric(rows["subsidy_yuan"], errors="coerce"),
            cost_yuan=pd.to_numeric(rows["cost_yuan"], errors="coerce"),
        )
        .groupby(["year", "street"], sort=True)
        .agg(
            packages=("package_id", "nunique"),
            units=("unit_id", "nunique"),
            communities=("community_id", "size"),
            households=("households", "sum"),
            floor_area_m2=("floor_area_m2", "sum"),
            cost_yuan=("cost_yuan", "sum"),
            residents_yuan=("residents_yuan", "sum"),
            subsidy_yuan=("subsidy_yuan", "sum"),
        )
        .reset_index()
    )
    for money in ("cost", "residents", "subsidy"):
        grouped[f"{money}_wan"] = grouped[f"{money}_yuan"] / 10_000
    grouped["floor_area_m2"] = grouped["floor_area_m2"].round(1)
    return grouped[list(SUMMARY_COLUMNS)]


def write_plan_table(
    rows: pd.DataFrame, *, xlsx: str | Path, csv: str | Path | None, context: Context, lang: Lang = "zh"
) -> list[Path]:
    """Write the plan table as XLSX (subtotals per street and year, a summary sheet by year) and CSV."""
    en = lang == "en"
    with Book(xlsx, lang=lang) as book:
        unit = " communities" if en else "个小区"
        title = "Renovation plan by community" if en else f"{context.city or ''}城镇老旧小区改造计划表"
        book.table(
            "Plan" if en else "计划表",
            heading=context.heading(title),
            columns=columns_of(PLAN_COLUMNS, lang, WIDTHS),
            frame=rows.assign(_year=rows["year"].map(lambda y: f"{y}" if en else f"{y}年")),
            subtotals=("street", "_year"),
            count_unit=unit,
        )
        summary = year_street_summary(rows)
        book.table(
            "By year" if en else "年度汇总",
            heading=context.heading("Plan totals by year" if en else f"{context.city or ''}城镇老旧小区改造年度汇总"),
            columns=columns_of(SUMMARY_COLUMNS, lang, WIDTHS),
            frame=summary.assign(_year=summary["year"].map(lambda y: f"{y}" if en else f"{y}年")),
            subtotals=("_year",),
            count_unit=" rows" if en else "条",
        )
    written = [Path(xlsx)]
    if csv is not None:
        k = 1 if en else 0
        written.append(write_csv(rows, [v[k] for v in PLAN_COLUMNS.values()], csv))
    return written
