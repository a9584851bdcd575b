"""The plan map: communities coloured by eligibility and score, merged units, packages, zones, scattered buildings.

One self-contained HTML page (Leaflet inlined, no network): a planner opens it from a file share, filters by
street, searches a community by name and clicks it to see why it is in or out, its score breakdown and its money.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import Analysis, City
from geo.crs import metric_crs
from geo.space.batches import Plan
from maps._common import (
    FACTORS,
    bounds,
    page_data,
    select_street,
    streets_layer,
    ui,
    within,
    zones_layer,
)
from maps._encode import StringTable, encode_points, encode_polygons, ints, rounded
from maps._page import render_page
from maps.basemaps import basemap as get_basemap

#: Eligible communities: light to dark green by score (bins of 20 points), then conditional and excluded.
SCORE_BINS = (20, 40, 60, 80)
ELIGIBLE_COLOURS = ("#d9f0d3", "#a6dba0", "#5aae61", "#1b7837", "#00441b")
CONDITIONAL_COLOUR = "#fdb863"
EXCLUDED_COLOUR = "#d9d9d9"
YEAR_COLOURS = ("#2166ac", "#e08214", "#762a83", "#1b7837", "#b2182b", "#35978f", "#8c510a")


def _status_colours(cands: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    colours = [*ELIGIBLE_COLOURS, CONDITIONAL_COLOUR, EXCLUDED_COLOUR]
    score = cands["score"].fillna(0.0).to_numpy(dtype=float)
    index = np.digitize(score, SCORE_BINS)
    status = cands["status"].to_numpy(dtype=object)
    index = np.where(status == "conditional", len(ELIGIBLE_COLOURS), index)
    index = np.where(status == "excluded", len(ELIGIBLE_COLOURS) + 1, index)
    return colours, index


def _communities_layer(cands: gpd.GeoDataFrame, lang: str, strings: StringTable, bm: Any) -> dict[str, Any]:
    shown = bm.to_display(cands)
    colours, index = _status_colours(shown)
    breakdown = [
        [None if not isinstance(b, dict) or f not in b else round(float(b[f]), 1) for f in FACTORS]
        for b in shown["score_breakdown"]
    ]
    reasons = [
        [[strings.add(r.get("text")), strings.add(r.get("source"))] for r in (rs if isinstance(rs, list) else [])]
        for rs in shown["reasons"]
    ]
    return {
        "id": "communities",
        "name": ui(lang)["communities"],
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": {"color": "#555", "weight": 0.6, "fillOpacity": 0.75},
        "colors": colours,
        "fill": index.tolist(),
        "renderer": "canvas" if len(shown) > 3000 else "svg",
        "popup": "plan",
        "search": True,
        "street": strings.column(shown["street"]),
        "props": {
            "id": strings.column(shown["community_id"]),
            "name": strings.column(shown["name"]),
            "street": strings.column(shown["street"]),
            "nbhd": strings.column(shown["neighbourhood"]),
            "status": strings.column(shown["status"]),
            "score": rounded(shown["score"]),
            "rank": ints(shown["rank"]),
            "breakdown": breakdown,
            "households": ints(shown["households"]),
            "cost": ints(shown["cost_yuan"]),
            "residents": ints(shown["residents_yuan"]),
            "subsidy": ints(shown["subsidy_yuan"]),
            "unit": strings.column(shown["unit_id"]),
            "reasons": reasons,
        },
    }


def _units_layer(units: gpd.GeoDataFrame, lang: str, strings: StringTable, bm: Any) -> dict[str, Any]:
    merged = bm.to_display(units[units["n_members"] > 1])
    en = lang == "en"
    texts = [
        f"{u}: {r}" if en else f"{u}：{r}"
        for u, r in zip(merged["unit_id"], merged["reason"].fillna(""), strict=True)
    ]
    return {
        "id": "units",
        "name": "Merged units (拆墙连片)" if en else "拆墙连片改造单元",
        "type": "polygon",
        "geom": encode_polygons(merged.geometry.values),
        "style": {"color": "#222", "weight": 2, "dashArray": "5 4", "fill": True, "fillOpacity": 0},
        "renderer": "svg",
        "popup": "text",
        "street": strings.column(merged["street"]),
        "props": {"text": strings.column(texts)},
    }


def _packages_layer(packages: gpd.GeoDataFrame, lang: str, strings: StringTable, bm: Any) -> dict[str, Any]:
    shown = bm.to_display(packages)
    en = lang == "en"
    years = shown["year"].astype("Int64")
    known = sorted({int(y) for y in years.dropna()})
    colour_of = {y: YEAR_COLOURS[i % len(YEAR_COLOURS)] for i, y in enumerate(known)}
    strokes = [{"color": colour_of[y]} for y in known] + [{"color": "#999"}]
    stroke = [len(known) if pd.isna(y) else known.index(int(y)) for y in years]
    texts = [
        (
            f"Package {p}: {y}, {n} units, {c} communities, {h:,} households, cost {cost:,} yuan"
            if en
            else f"项目包{p}：{y}年，{n}个改造单元，{c}个小区，{h:,}户，估算投资{cost:,}元"
        )
        for p, y, n, c, h, cost in zip(
            shown["package_id"],
            years,
            shown["n_units"],
            shown["communities"],
            shown["households"],
            shown["cost_yuan"],
            strict=True,
        )
    ]
    return {
        "id": "packages",
        "name": "Implementation packages" if en else "实施项目包",
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": {"weight": 3.5, "opacity": 0.8, "fill": True, "fillOpacity": 0},
        "strokes": strokes,
        "stroke": stroke,
        "renderer": "svg",
        "popup": "text",
        "street": strings.column(shown["street"]),
        "props": {"text": strings.column(texts)},
        "_years": [(y, colour_of[y]) for y in known],
    }


def _scattered_layer(
    analysis: Analysis, city: City, lang: str, strings: StringTable, bm: Any
) -> dict[str, Any] | None:
    scattered = analysis.scattered
    if scattered.empty:
        return None
    buildings = city.buildings.set_index("id")
    found = scattered[scattered["building_id"].isin(buildings.index)]
    geoms = buildings.geometry.reindex(found["building_id"]).to_numpy()
    metric = metric_crs(city.buildings)
    points = (
        gpd.GeoSeries(geoms, crs=city.buildings.crs).to_crs(metric).representative_point().to_crs(city.buildings.crs)
    )
    frame = gpd.GeoDataFrame(found.reset_index(drop=True), geometry=points.values, crs=city.buildings.crs)
    shown = bm.to_display(frame)
    street_of_unit = analysis.units.set_index("unit_id")["street"]
    street_of_community = analysis.candidates.set_index("community_id")["street"]
    streets = shown["unit_id"].map(street_of_unit).fillna(shown["community_id"].map(street_of_community))
    en = lang == "en"
    return {
        "id": "scattered",
        "name": "Scattered old buildings (插花式)" if en else "插花式老旧楼栋",
        "type": "point",
        "geom": encode_points(shown.geometry.values),
        "style": {"radius": 5, "color": "#fff", "weight": 1.5, "fillColor": "#6a3d9a", "fillOpacity": 1},
        "renderer": "svg",
        "popup": "text",
        "street": strings.column(streets),
        "props": {
            "text": strings.column(
                f"{b}: {r}" if en else f"{b}：{r}"
                for b, r in zip(shown["building_id"], shown["reason"].fillna(""), strict=True)
            )
        },
    }


def _legend(lang: str, years: list[tuple[int, str]]) -> list[dict[str, Any]]:
    en = lang == "en"
    labels = ui(lang)["status"]
    bins = [0, *SCORE_BINS, 100]
    status_items = [
        {"swatch": {"fill": c}, "label": f"{labels['eligible']} {bins[i]}–{bins[i + 1]}" + ("" if en else "分")}
        for i, c in enumerate(ELIGIBLE_COLOURS)
    ]
    status_items += [
        {"swatch": {"fill": CONDITIONAL_COLOUR}, "label": labels["conditional"]},
        {"swatch": {"fill": EXCLUDED_COLOUR}, "label": labels["excluded"]},
    ]
    outlines = [
        {"swatch": {"stroke": "#3d3d3d", "width": 2}, "label": ui(lang)["streets"]},
        {
            "swatch": {"stroke": "#222", "width": 2, "dash": True},
            "label": "Merged unit" if en else "拆墙连片改造单元",
        },
        {"swatch": {"hatch": True, "stroke": "#b2182b", "dash": True}, "label": ui(lang)["zones"]},
        {
            "swatch": {"fill": "#6a3d9a", "dot": True, "stroke": "#fff"},
            "label": "Scattered old building" if en else "插花式老旧楼栋",
        },
    ]
    sections = [
        {"title": "Community status and score" if en else "小区认定结果与评分", "items": status_items},
        {"title": "Outlines and markers" if en else "边界与标注", "items": outlines},
    ]
    if years:
        sections.append(
            {
                "title": "Packages by plan year" if en else "项目包（按计划年度）",
                "items": [{"swatch": {"stroke": c, "width": 3}, "label": str(y)} for y, c in years],
            }
        )
    return sections


def render_plan_map(
    *,
    analysis: Analysis,
    plan: Plan | None = None,
    city: City,
    street: str | None = None,
    basemap: str = "none",
    lang: str = "zh",
) -> str:
    """The plan map as one complete HTML document (Leaflet inlined; works with no network).

    Parameters
    ----------
    analysis
        Candidates (with geometry), merged units and scattered buildings from :func:`geo.analysis.analyse`.
    plan
        Packages and years from :func:`geo.analysis.plan_streets`; without it no packages are drawn.
    city
        The city the analysis was made from (street outlines, zones, building footprints).
    street
        Draw only this street; the page's own street filter still lists every street drawn.
    basemap
        ``none`` (default, offline), ``osm``, ``tianditu`` (key in ``TIANDITU_KEY``) or ``amap`` (geometries
        shifted to GCJ-02 to sit on AMap's tiles).
    lang
        Labels, legend and popups in Chinese (``zh``, default) or English (``en``).

    Raises
    ------
    NotFoundError
        ``street`` is not a street of the city.
    DataError
        Unknown basemap, or ``tianditu`` without a key.
    """
    bm = get_basemap(basemap)
    area = select_street(city, street)
    cands = analysis.candidates
    units = analysis.units
    packages = plan.packages if plan is not None else None
    if street is not None:
        cands = cands[cands["street"] == street]
        units = units[units["street"] == street]
        packages = packages[packages["street"] == street] if packages is not None else None
    strings = StringTable()
    layers: list[dict[str, Any]] = [streets_layer(area, bm, lang)]
    zones = within(city.zones, area)
    if len(zones):
        layers.append(zones_layer(zones, bm, lang, strings))
    layers.append(_communities_layer(cands, lang, strings, bm))
    layers.append(_units_layer(units, lang, strings, bm))
    years: list[tuple[int, str]] = []
    if packages is not None and len(packages):
        package_layer = _packages_layer(packages, lang, strings, bm)
        years = package_layer.pop("_years")
        layers.append(package_layer)
    scattered = _scattered_layer(analysis, city, lang, strings, bm)
    if scattered is not None:
        layers.append(scattered)
    en = lang == "en"
    profile = analysis.profile
    title = f"{profile.name.get(lang)} — {'renovation plan map' if en else '改造规划图'}"
    counts = cands["status"].value_counts()
    labels = ui(lang)["status"]
    subtitle = ("; " if en else "；").join(
        f"{labels[s]} {int(counts.get(s, 0))}" for s in ("eligible", "conditional", "excluded")
    )
    street_names = [s for s in (area["name"].tolist() or sorted(cands["street"].dropna().unique())) if s]
    extent = bounds([bm.to_display(f) for f in (area, cands) if len(f)])
    data = page_data(
        title=title,
        subtitle=subtitle,
        lang=lang,
        bm=bm,
        strings=strings,
        streets=street_names,
        layers=layers,
        legend=_legend(lang, years),
        extent=extent,
    )
    return render_page(title=title, data=data, lang=lang)


__all__ = ["render_plan_map"]
