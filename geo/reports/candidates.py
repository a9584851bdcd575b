"""Writing candidate lists: JSON, CSV (UTF-8 with BOM for Excel), XLSX (with a rules sheet) and GeoJSON."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from geo.errors import DataError
from geo.io.cells import csv_rows, xlsx_row
from geo.model import ZONE_KINDS
from geo.policy.candidates import CANDIDATE_FIELDS
from geo.policy.profiles import Lang, Profile

Format = Literal["json", "csv", "xlsx", "geojson"]

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
    "cost_yuan": ("改造费用（元）", "Cost (yuan)"),
    "residents_yuan": ("居民出资（元）", "Residents (yuan)"),
    "subsidy_yuan": ("财政补助（元）", "Subsidy (yuan)"),
}
STATUS: dict[str, tuple[str, str]] = {
    "eligible": ("符合条件", "eligible"),
    "conditional": ("有条件纳入", "conditional"),
    "excluded": ("不纳入", "excluded"),
}
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


def _records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return [{f: _plain(row[f]) for f in CANDIDATE_FIELDS} for _, row in gdf.iterrows()]


def _reasons_text(reasons: Any, lang: Lang) -> str:
    if not isinstance(reasons, list):
        return ""
    return "\n".join(
        f"{i}. {r['text']}（{r['source']}）" if lang == "zh" else f"{i}. {r['text']} ({r['source']})"
        for i, r in enumerate(reasons, 1)
    )


def _breakdown_text(breakdown: Any, lang: Lang) -> str:
    if not isinstance(breakdown, dict):
        return ""
    k = 0 if lang == "zh" else 1
    return ("；" if lang == "zh" else "; ").join(f"{FACTORS.get(f, (f, f))[k]} {p:g}" for f, p in breakdown.items())


def _table(gdf: gpd.GeoDataFrame, lang: Lang, *, translate_status: bool) -> tuple[list[str], list[list[Any]]]:
    k = 0 if lang == "zh" else 1
    header = [HEADERS[f][k] for f in CANDIDATE_FIELDS]
    rows = []
    for rec in _records(gdf):
        rec["reasons"] = _reasons_text(rec["reasons"], lang)
        rec["score_breakdown"] = _breakdown_text(rec["score_breakdown"], lang)
        if translate_status and rec["status"] in STATUS:
            rec["status"] = STATUS[rec["status"]][k]
        rows.append([rec[f] for f in CANDIDATE_FIELDS])
    return header, rows


def _rules_rows(gdf: gpd.GeoDataFrame, profile: Profile, lang: Lang) -> list[list[Any]]:
    en = lang == "en"
    k = 1 if en else 0
    rows: list[list[Any]] = [[f"{profile.name.get(lang)} ({profile.id})", profile.document, "", ""]]
    rows.append(["Scoring weights" if en else "评分权重", "", "", profile.scoring.source])
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
                cat.source,
            ]
        )
    sc = profile.scoring
    rows.append(["Age for full points" if en else "房龄满分年限", sc.age_full_years, "", ""])
    rows.append(["Households for full points" if en else "户数满分", sc.households_full, "", ""])
    rows.append(["", "", "", ""])
    rows.append(["Rules" if en else "规则", "", "", ""])
    rows.append(["Cutoff" if en else "认定年限", profile.cutoff.describe(lang), "", profile.cutoff.source])
    ex = profile.exclusions
    share = f"{float(ex.zone_overlap_share) * 100:g}%"
    for z in ex.zones:
        rows.append(
            [
                ("Excluded zone" if en else "排除片区"),
                z.kind if en else ZONE_KINDS[z.kind],
                (f"more than {share} of the area" if en else f"重叠面积超过{share}"),
                z.source,
            ]
        )
    if ex.safety_grades:
        rows.append(
            ["Dangerous buildings" if en else "危房", "/".join(ex.safety_grades.grades), "", ex.safety_grades.source]
        )
    if ex.hollow_core_slab:
        rows.append(["Hollow-core slab" if en else "多孔板", "", "", ex.hollow_core_slab.source])
    if ex.already_renovated:
        rows.append(
            [
                "Already renovated" if en else "已改造项目",
                "no credit" if en else "不计分",
                "",
                ex.already_renovated.source,
            ]
        )
    for ext in profile.extensions:
        rows.append(["Extension" if en else "放宽条件", ext.code, ext.text.get(lang), ext.source])
    rows.append(
        [
            "Funding" if en else "资金分担",
            profile.funding.kind,
            profile.funding.text.get(lang),
            profile.funding.source,
        ]
    )
    seen: dict[str, tuple[str, str]] = {}
    for reasons in gdf["reasons"]:
        for r in reasons if isinstance(reasons, list) else []:
            seen.setdefault(r["code"], (r["text"], r["source"]))
    if seen:
        rows.append(["", "", "", ""])
        rows.append(["Reasons in this list" if en else "本表出现的认定理由", "", "", ""])
        rows.extend([code, "", f"{'e.g.' if en else '例'}：{text}", source] for code, (text, source) in seen.items())
    return rows


def _write_xlsx(gdf: gpd.GeoDataFrame, path: Path, profile: Profile, lang: Lang) -> None:
    header, rows = _table(gdf, lang, translate_status=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "候选名单" if lang == "zh" else "Candidates"
    ws.append(header)
    for row in rows:
        ws.append(xlsx_row(ws, row))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    widths = {"name": 22, "reasons": 70, "score_breakdown": 40, "street": 14, "neighbourhood": 14}
    wrap = Alignment(wrap_text=True, vertical="top")
    for i, field in enumerate(CANDIDATE_FIELDS, 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = widths.get(field, max(12, len(header[i - 1]) * 2 + 2))
        if field in ("reasons", "score_breakdown"):
            for cell in ws[letter][1:]:
                cell.alignment = wrap
    rules = wb.create_sheet("评分与规则说明" if lang == "zh" else "Scoring and rules")
    rules.append(["项目", "取值", "说明", "依据"] if lang == "zh" else ["Item", "Value", "Explanation", "Source"])
    for cell in rules[1]:
        cell.font = Font(bold=True)
    for row in _rules_rows(gdf, profile, lang):
        rules.append(xlsx_row(rules, row))
    rules.freeze_panes = "A2"
    for letter, width in zip("ABCD", (28, 16, 60, 70), strict=True):
        rules.column_dimensions[letter].width = width
    wb.save(path)


def write_candidates(
    gdf: gpd.GeoDataFrame, path: str | Path, *, format: Format, profile: Profile, lang: Lang = "zh"
) -> Path:
    """Write a candidate list as ``json`` (list of records), ``csv`` (UTF-8 with BOM, headers in ``lang``),
    ``xlsx`` (frozen header, readable reasons, second sheet explaining weights and rules with sources) or
    ``geojson`` (FeatureCollection in EPSG:4326, longitude first)."""
    path = Path(path)
    if format == "json":
        path.write_text(json.dumps(_records(gdf), ensure_ascii=False, indent=2), encoding="utf-8")
    elif format == "csv":
        header, rows = _table(gdf, lang, translate_status=False)
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(csv_rows(["" if v is None else v for v in row] for row in rows))
    elif format == "xlsx":
        _write_xlsx(gdf, path, profile, lang)
    elif format == "geojson":
        wgs = gdf.to_crs(4326)
        features = [
            {"type": "Feature", "properties": rec, "geometry": geom.__geo_interface__ if geom is not None else None}
            for rec, geom in zip(_records(wgs), wgs.geometry, strict=True)
        ]
        collection = {"type": "FeatureCollection", "features": features}
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    else:
        raise DataError(f"不支持的格式：{format}", f"Unsupported format: {format}")
    return path
