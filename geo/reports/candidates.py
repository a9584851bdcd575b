"""Candidate lists for people: JSON (the contract's records), CSV (UTF-8 with BOM for Excel), XLSX (printable,
with a sheet explaining scoring and rules) and GeoJSON.

CSV, XLSX and GeoJSON are written in one language: Chinese headers and values (符合条件, 是/否, Chinese rule sources)
by default, English with ``lang="en"``. ``rank`` means one thing per file, said in its header: the rank in the
street (a street's list) or in the city (the list of every street). Excluded compounds have no score and no rank:
those cells are blank, not 0. A ``plan_year`` column, when the caller adds one, shows as 计划年度.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd

from geo.errors import DataError
from geo.policy.candidates import CANDIDATE_FIELDS
from geo.policy.profiles import Lang, Profile, source_text
from geo.reports.csvfile import write_csv
from geo.reports.labels import STATUS, reason_kind, words, zone_kind
from geo.reports.xlsx import Book, Column, Context

Format = Literal["json", "csv", "xlsx", "geojson"]
RankScope = Literal["street", "city"]

HEADERS: dict[str, tuple[str, str]] = {
    "community_id": ("小区编号", "Community ID"),
    "name": ("小区名称", "Name"),
    "street": ("所属街道", "Street"),
    "neighbourhood": ("所属社区", "Neighbourhood"),
    "year_built": ("建成年份", "Year built"),
    "households": ("户数", "Households"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)"),
    "status": ("认定结果", "Status"),
    "reasons": ("认定理由", "Reasons"),
    "score": ("评分", "Score"),
    "score_breakdown": ("评分构成", "Score breakdown"),
    "rank": ("排序", "Rank"),
    "unit_id": ("连片单元", "Merged unit"),
    "plan_year": ("计划年度", "Plan year"),
    "cost_yuan": ("改造费用（元）", "Cost (yuan)"),
    "cost_wan": ("改造费用（万元）", "Cost (10,000 yuan)"),
    "residents_yuan": ("居民出资（元）", "Residents (yuan)"),
    "subsidy_yuan": ("财政补助（元）", "Subsidy (yuan)"),
}
RANK_HEADERS: dict[str, tuple[str, str]] = {
    "street": ("街道内排序", "Rank in street"),
    "city": ("全市排序", "Rank in city"),
}
KINDS: dict[str, str] = {
    "year_built": "year",
    "households": "count",
    "floor_area_m2": "area",
    "reasons": "wrap",
    "score": "score",
    "score_breakdown": "wrap",
    "rank": "int",
    "plan_year": "year",
    "cost_yuan": "yuan",
    "cost_wan": "wan",
    "residents_yuan": "yuan",
    "subsidy_yuan": "yuan",
}
WIDTHS: dict[str, float] = {"name": 22, "reasons": 70, "score_breakdown": 36, "street": 12, "neighbourhood": 12}
FACTORS: dict[str, tuple[str, str, str, str]] = {
    "deficiencies": (
        "设施缺项",
        "deficiencies",
        "按类别加权的未改造缺项占全部清单的比例",
        "deficient items not yet renovated, weighted by category, over the whole menu",
    ),
    "priority_items": (
        "优先项目",
        "priority items",
        "优先项目（如水电路气）中缺项的比例",
        "share of the priority items (e.g. water, power, roads, gas) that are deficient",
    ),
    "age": (
        "房龄",
        "age",
        "（政策年份−建成年份）/满分年限，最高为1",
        "(policy year − year built) / full-score age, at most 1",
    ),
    "households": (
        "受益户数",
        "households",
        "户数/满分户数，最高为1",
        "households / full-score households, at most 1",
    ),
    "support": ("居民支持率", "support", "支持改造户数/总户数", "support households / households"),
    "funds": (
        "资金到位",
        "funds ready",
        "居民已缴资金/居民应出资额",
        "residents' funds collected / residents' share",
    ),
}


def _plain(value: Any) -> Any:
    """JSON-ready value: NA/NaN → None, numpy scalars → Python."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item") and not isinstance(value, list | dict | str):
        return value.item()
    return value


def _fields(gdf: pd.DataFrame) -> list[str]:
    """The contract's fields, with ``plan_year`` after ``unit_id`` when the frame has one."""
    fields = list(CANDIDATE_FIELDS)
    if "plan_year" in gdf.columns:
        fields.insert(fields.index("unit_id") + 1, "plan_year")
    return fields


def records(gdf: pd.DataFrame) -> list[dict[str, Any]]:
    """The contract's candidate records (JSON-ready), plus ``plan_year`` when present."""
    fields = _fields(gdf)
    columns = {f: gdf[f].tolist() for f in fields}
    return [{f: _plain(columns[f][i]) for f in fields} for i in range(len(gdf))]


def reasons_text(reasons: Any, lang: Lang) -> str:
    """Numbered reasons, each with its source in ``lang``."""
    if not isinstance(reasons, list):
        return ""
    en = lang == "en"
    return "\n".join(
        f"{i}. {r['text']} ({source_text(r['source'], lang)})"
        if en
        else f"{i}. {r['text']}（{source_text(r['source'], lang)}）"
        for i, r in enumerate(reasons, 1)
    )


def _breakdown_text(breakdown: Any, lang: Lang) -> str:
    if not isinstance(breakdown, dict):
        return ""
    k = 0 if lang == "zh" else 1
    return ("；" if lang == "zh" else "; ").join(f"{FACTORS.get(f, (f, f))[k]} {p:g}" for f, p in breakdown.items())


def display_frame(gdf: pd.DataFrame, lang: Lang, *, with_wan: bool = False) -> pd.DataFrame:
    """The list as people read it: statuses and reasons in ``lang``, blank score and rank for excluded rows."""
    fields = _fields(gdf)
    out = pd.DataFrame({f: gdf[f].to_numpy() for f in fields}, index=range(len(gdf)))
    excluded = (out["status"] == "excluded").to_numpy()
    out["score"] = out["score"].astype(object).where(~excluded, None)
    out["rank"] = out["rank"].astype(object).where(out["rank"].notna(), None)
    out["status"] = words(STATUS, out["status"], lang)
    out["reasons"] = [reasons_text(r, lang) for r in out["reasons"]]
    out["score_breakdown"] = [_breakdown_text(b, lang) for b in out["score_breakdown"]]
    if with_wan:
        cost = pd.to_numeric(out["cost_yuan"], errors="coerce")
        out.insert(out.columns.get_loc("cost_yuan") + 1, "cost_wan", cost / 10_000)
    return out


def headers(columns: list[str], lang: Lang, rank_scope: RankScope) -> list[str]:
    k = 1 if lang == "en" else 0
    table = {**HEADERS, "rank": RANK_HEADERS[rank_scope]}
    return [table[c][k] for c in columns]


def _rules_rows(gdf: pd.DataFrame, profile: Profile, lang: Lang) -> list[list[Any]]:
    en = lang == "en"
    k = 1 if en else 0

    def src(s: str | None) -> str:
        return source_text(s, lang)

    rows: list[list[Any]] = [
        [
            f"{profile.name.get(lang)} ({profile.id})" if en else f"{profile.name.zh}（{profile.id}）",
            profile.document,
            "",
            "",
        ]
    ]
    rows.append(["Scoring weights" if en else "评分权重", "", "", src(profile.scoring.source)])
    for factor, weight in profile.scoring.weights.items():
        _zh, _en, zh_desc, en_desc = FACTORS[factor]
        rows.append([FACTORS[factor][k], weight, en_desc if en else zh_desc, ""])
    for code, w in profile.category_weights().items():
        cat = profile.content.category(code)
        rows.append(
            [
                (f"Category weight: {cat.en}" if en else f"类别权重：{cat.zh}"),
                w,
                "points per deficient item" if en else "每个缺项的分值",
                src(cat.source),
            ]
        )
    sc = profile.scoring
    rows.append(["Age for full points" if en else "房龄满分年限", sc.age_full_years, "", ""])
    rows.append(["Households for full points" if en else "户数满分", sc.households_full, "", ""])
    rows.append(["", "", "", ""])
    rows.append(["Rules" if en else "规则", "", "", ""])
    rows.append(["Cutoff" if en else "认定年限", profile.cutoff.describe(lang), "", src(profile.cutoff.source)])
    ex = profile.exclusions
    share = f"{float(ex.zone_overlap_share) * 100:g}%"
    for z in ex.zones:
        rows.append(
            [
                ("Excluded zone" if en else "排除片区"),
                zone_kind(z.kind, lang),
                (f"more than {share} of the area" if en else f"重叠面积超过{share}"),
                src(z.source),
            ]
        )
    rows.append(["Zone overlap share" if en else "片区重叠比例", share, "", src(ex.zone_overlap_source)])
    if ex.safety_grades:
        rows.append(
            [
                "Dangerous buildings" if en else "危房",
                "/".join(ex.safety_grades.grades),
                "",
                src(ex.safety_grades.source),
            ]
        )
    if ex.hollow_core_slab:
        rows.append(["Hollow-core slab" if en else "多孔板", "", "", src(ex.hollow_core_slab.source)])
    if ex.already_renovated:
        rows.append(
            [
                "Already renovated" if en else "已改造项目",
                "no credit" if en else "不计分",
                "",
                src(ex.already_renovated.source),
            ]
        )
    for ext in profile.extensions:
        rows.append(["Extension" if en else "放宽条件", "", ext.text.get(lang), src(ext.source)])
    rows.append(["Funding" if en else "资金分担", "", profile.funding.text.get(lang), src(profile.funding.source)])
    seen: dict[str, tuple[str, str]] = {}
    for reasons in gdf["reasons"]:
        for r in reasons if isinstance(reasons, list) else []:
            seen.setdefault(r["code"], (r["text"], r["source"]))
    if seen:
        rows.append(["", "", "", ""])
        rows.append(["Reasons in this list" if en else "本表出现的认定理由", "", "", ""])
        rows.extend(
            [reason_kind(code, lang), "", f"{'e.g. ' if en else '例：'}{text}", src(source)]
            for code, (text, source) in seen.items()
        )
    return rows


def _write_xlsx(
    gdf: gpd.GeoDataFrame, path: Path, profile: Profile, lang: Lang, rank_scope: RankScope, context: Context
) -> None:
    en = lang == "en"
    frame = display_frame(gdf, lang, with_wan=True)
    keys = list(frame.columns)
    columns = [
        Column(key, header, KINDS.get(key, "text"), WIDTHS.get(key))  # type: ignore[arg-type]
        for key, header in zip(keys, headers(keys, lang, rank_scope), strict=True)
    ]
    streets = [s for s in pd.unique(gdf["street"].dropna())] if "street" in gdf else []
    street = streets[0] if len(streets) == 1 else None
    scope = (
        ("rank in the street" if rank_scope == "street" else "rank in the city")
        if en
        else ("排序为街道内排序" if rank_scope == "street" else "排序为全市排序")
    )
    title = (
        f"Old-community renovation candidates — {street or context.city or ''}"
        if en
        else f"{context.city or ''}{street or ''}城镇老旧小区改造候选名单"
    )
    with Book(path, lang=lang) as book:
        book.table(
            "Candidates" if en else "候选名单",
            heading=context.heading(title, street=street, extra=[("Note" if en else "说明", scope)]),
            columns=columns,
            frame=frame,
            count_unit=" communities" if en else "个小区",
        )
        book.notes(
            "Scoring and rules" if en else "评分与规则说明",
            heading=context.heading("Scoring and rules" if en else "评分与规则说明", street=street),
            header=["Item", "Value", "Explanation", "Source"] if en else ["项目", "取值", "说明", "依据"],
            rows=_rules_rows(gdf, profile, lang),
            widths=(28, 16, 60, 70),
        )


def write_candidates(
    gdf: gpd.GeoDataFrame,
    path: str | Path,
    *,
    format: Format,
    profile: Profile,
    lang: Lang = "zh",
    rank_scope: RankScope = "street",
    context: Context | None = None,
) -> Path:
    """Write a candidate list; the output folder is created if missing.

    Parameters
    ----------
    format
        ``json`` (the contract's records), ``csv`` (UTF-8 with BOM, headers and values in ``lang``), ``xlsx``
        (printable: title, number formats, totals, print setup; a second sheet explains weights and rules with
        their sources) or ``geojson`` (EPSG:4326, longitude first; Chinese property names and values in Chinese,
        the contract's records in English).
    rank_scope
        What ``rank`` is in this list: the rank in the ``street`` (a street's list) or in the ``city``.
    context
        City, data date and policy for the XLSX heading (default: the policy alone).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    context = context or Context.of(profile, lang=lang)
    if format == "json":
        path.write_text(json.dumps(records(gdf), ensure_ascii=False, indent=2), encoding="utf-8")
    elif format == "csv":
        frame = display_frame(gdf, lang)
        write_csv(frame, headers(list(frame.columns), lang, rank_scope), path)
    elif format == "xlsx":
        _write_xlsx(gdf, path, profile, lang, rank_scope, context)
    elif format == "geojson":
        wgs = gdf.to_crs(4326)
        if lang == "en":
            props = records(wgs)
        else:
            frame = display_frame(wgs, lang)
            keys = headers(list(frame.columns), lang, rank_scope)
            props = [dict(zip(keys, map(_plain, row), strict=True)) for row in frame.itertuples(index=False)]
        features = [
            {"type": "Feature", "properties": p, "geometry": geom.__geo_interface__ if geom is not None else None}
            for p, geom in zip(props, wgs.geometry, strict=True)
        ]
        collection = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    else:
        raise DataError(f"不支持的格式：{format}", f"Unsupported format: {format}")
    return path
