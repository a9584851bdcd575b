"""The plan map: compounds coloured by eligibility and score, merged units, packages by year, zones, roads.

One self-contained HTML page (folium, every library inlined, no network): a leader opens it from a file share or
a share link, picks a street, searches a compound by name or number and clicks it to see why it is in or out, its
score, its money and its plan year. The side panel lists the plan year by year (compounds, households,
investment) for the whole city or the street picked. Package and unit outlines are drawn but do not take clicks,
so a click always reaches the compound underneath.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import Analysis, City
from geo.crs import metric_crs
from geo.policy.profiles import source_text
from geo.reports.plan_table import plan_members
from geo.space.batches import Plan
from maps._common import (
    FACTORS,
    View,
    esc,
    legend_html,
    money,
    money_unit,
    outline_legend,
    renderer,
    table_html,
    ui,
)
from maps._encode import StringTable, encode_points, encode_polygons, ints, rounded

#: Eligible communities: light to dark green by score (bins of 20 points), then conditional and excluded.
SCORE_BINS = (20, 40, 60, 80)
ELIGIBLE_COLOURS = ("#d9f0d3", "#a6dba0", "#5aae61", "#1b7837", "#00441b")
CONDITIONAL_COLOUR = "#fdb863"
EXCLUDED_COLOUR = "#d9d9d9"
#: Package outlines by year: blues, purples, teals and browns, never the zones' red.
YEAR_COLOURS = ("#2166ac", "#762a83", "#01665e", "#8c510a", "#4393c3", "#c51b7d", "#35978f", "#bf812d")
PLAIN = {"color": "#555", "weight": 0.6, "dashArray": None}
#: Conditional compounds the plan takes in (an extension admitted them): a thick orange dashed outline.
CONDITIONAL_IN_PLAN = {"color": "#e66101", "weight": 2.5, "dashArray": "4 3"}


def _status_colours(cands: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    colours = [*ELIGIBLE_COLOURS, CONDITIONAL_COLOUR, EXCLUDED_COLOUR]
    score = cands["score"].fillna(0.0).to_numpy(dtype=float)
    index = np.digitize(score, SCORE_BINS)
    status = cands["status"].to_numpy(dtype=object)
    index = np.where(status == "conditional", len(ELIGIBLE_COLOURS), index)
    index = np.where(status == "excluded", len(ELIGIBLE_COLOURS) + 1, index)
    return colours, index


def _membership(plan: Plan | None) -> pd.DataFrame:
    """Per community in the plan: its unit, package, year and whether the plan took it in conditionally."""
    columns = ["unit_id", "package_id", "year", "conditional"]
    if plan is None or plan.units.empty:
        return plan_members(None, columns)
    units = pd.DataFrame(plan.units.drop(columns="geometry"))
    units["conditional"] = units["conditional"].fillna(False).astype(bool) if "conditional" in units else False
    return plan_members(units, columns)


def _communities_layer(
    cands: gpd.GeoDataFrame, plan: Plan | None, lang: str, strings: StringTable, bm: Any
) -> dict[str, Any]:
    shown = bm.to_display(cands)
    colours, index = _status_colours(shown)
    member = _membership(plan).reindex(shown["community_id"])
    planned = member["year"].notna().to_numpy()
    conditional = planned & (
        (shown["status"].to_numpy() == "conditional") | member["conditional"].eq(True).to_numpy()
    )
    breakdown = [
        [None if not isinstance(b, dict) or f not in b else round(float(b[f]), 1) for f in FACTORS]
        for b in shown["score_breakdown"]
    ]
    reasons = [
        [
            [strings.add(r.get("text")), strings.add(source_text(r.get("source"), lang) or None)]
            for r in (rs if isinstance(rs, list) else [])
        ]
        for rs in shown["reasons"]
    ]
    unit = member["unit_id"].where(member["unit_id"].notna(), shown["unit_id"].to_numpy())
    strings.prime(shown["street"], shown["status"], shown["neighbourhood"], member["package_id"])
    return {
        "id": "communities",
        "name": ui(lang)["communities"],
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": {"fillOpacity": 0.75},
        "colors": colours,
        "fill": index.tolist(),
        "strokes": [PLAIN, CONDITIONAL_IN_PLAN],
        "stroke": conditional.astype(int).tolist(),
        "renderer": renderer(len(shown)),
        "popup": "plan",
        "search": True,
        "street": strings.column(shown["street"]),
        "props": {
            "id": strings.column(shown["community_id"]),
            "name": strings.column(shown["name"]),
            "nbhd": strings.column(shown["neighbourhood"]),
            "status": strings.column(shown["status"]),
            "score": rounded(shown["score"]),
            "rank": ints(shown["rank"]),
            "breakdown": breakdown,
            "households": ints(shown["households"]),
            "cost": ints(shown["cost_yuan"]),
            "residents": ints(shown["residents_yuan"]),
            "subsidy": ints(shown["subsidy_yuan"]),
            "unit": strings.column(unit),
            "package": strings.column(member["package_id"]),
            "year": ints(member["year"]),
            "planned": planned.astype(int).tolist(),
            "reasons": reasons,
        },
    }


def _units_layer(units: gpd.GeoDataFrame, lang: str, strings: StringTable, bm: Any) -> dict[str, Any]:
    merged = bm.to_display(units[units["n_members"] > 1])
    return {
        "id": "units",
        "name": "Merged units (拆墙连片)" if lang == "en" else "拆墙连片改造单元",
        "type": "polygon",
        "geom": encode_polygons(merged.geometry.values),
        "style": {"color": "#222", "weight": 1.6, "dashArray": "5 4", "fill": False},
        "interactive": False,
        "renderer": "svg",
        "street": strings.column(merged["street"]),
    }


def _year_colours(years: pd.Series) -> dict[int, str]:
    known = sorted({int(y) for y in years.dropna()})
    return {y: YEAR_COLOURS[i % len(YEAR_COLOURS)] for i, y in enumerate(known)}


def _packages_layer(packages: gpd.GeoDataFrame, lang: str, strings: StringTable, bm: Any) -> dict[str, Any]:
    shown = bm.to_display(packages[packages.geometry.notna()])
    years = shown["year"].astype("Int64")
    colour_of = _year_colours(years)
    known = list(colour_of)
    return {
        "id": "packages",
        "name": "Implementation packages by year" if lang == "en" else "实施项目包（按年度）",
        "type": "polygon",
        "geom": encode_polygons(shown.geometry.values),
        "style": {"weight": 3.5, "opacity": 0.9, "fill": False},
        "strokes": [{"color": colour_of[y]} for y in known] + [{"color": "#999"}],
        "stroke": [len(known) if pd.isna(y) else known.index(int(y)) for y in years],
        "interactive": False,
        "renderer": "svg",
        "street": strings.column(shown["street"]),
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


def _legend(lang: str, years: dict[int, str], with_conditional: bool) -> list[dict[str, Any]]:
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
    if with_conditional:
        status_items.append(
            {
                "swatch": {
                    "fill": CONDITIONAL_COLOUR,
                    "stroke": CONDITIONAL_IN_PLAN["color"],
                    "width": 2,
                    "dash": True,
                },
                "label": "Conditional, taken into the plan" if en else "有条件纳入并列入规划",
            }
        )
    outline = outline_legend(lang)
    outlines = [
        outline["streets"],
        outline["roads"],
        {
            "swatch": {"stroke": "#222", "width": 2, "dash": True},
            "label": "Merged unit" if en else "拆墙连片改造单元",
        },
        outline["zones"],
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
                "title": "Package outlines by plan year" if en else "项目包边框（按计划年度）",
                "items": [{"swatch": {"stroke": c, "width": 3}, "label": str(y)} for y, c in years.items()],
            }
        )
    return sections


def _year_rows(packages: pd.DataFrame) -> pd.DataFrame:
    return (
        packages.groupby("year")
        .agg(
            packages=("package_id", "size"),
            communities=("communities", "sum"),
            households=("households", "sum"),
            cost_yuan=("cost_yuan", "sum"),
        )
        .sort_index()
    )


def _year_panel(packages: pd.DataFrame | None, streets: list[str], lang: str, note: str) -> str:
    """The plan year by year (packages, compounds, households, investment), for all streets and each street."""
    en = lang == "en"
    title = "Plan by year" if en else "分年度计划"
    if packages is None or packages.empty:
        return f"<h2>{esc(title)}</h2><p class='rn-note'>{esc(note)}</p>"
    head = (
        ["Year", "Packages", "Communities", "Households", f"Investment ({money_unit(lang)})"]
        if en
        else ["年度", "项目包", "小区", "户数", f"投资（{money_unit(lang)}）"]
    )
    frame = pd.DataFrame(packages.drop(columns="geometry", errors="ignore"))
    frame = frame[frame["year"].notna()]
    parts = [f"<h2>{esc(title)}</h2>"]
    for street in ["", *streets]:
        part = frame if not street else frame[frame["street"] == street]
        years = _year_rows(part)
        rows = [
            (
                [
                    str(int(y)),
                    f"{int(r.packages):,}",
                    f"{int(r.communities):,}",
                    f"{int(r.households):,}",
                    money(r.cost_yuan, lang),
                ],
                {},
            )
            for y, r in years.iterrows()
        ]
        total = years.sum()
        foot = [
            "Total" if en else "合计",
            f"{int(total.get('packages', 0)):,}",
            f"{int(total.get('communities', 0)):,}",
            f"{int(total.get('households', 0)):,}",
            money(total.get("cost_yuan", 0), lang),
        ]
        body = table_html(head, rows, foot=foot) if rows else f"<p class='rn-note'>{'—'}</p>"
        parts.append(f"<div class='rn-section' data-street='{esc(street)}'>{body}</div>")
    return "".join(parts)


def render_plan_map(
    *,
    analysis: Analysis,
    plan: Plan | None = None,
    city: City,
    street: str | None = None,
    basemap: str = "none",
    lang: str = "zh",
    plan_note: str = "",
) -> str:
    """The plan map as one complete HTML document (every library inlined; works with no network).

    Parameters
    ----------
    analysis
        Candidates (with geometry), merged units and scattered buildings from :func:`geo.analysis.analyse`.
    plan
        The plan to show (:func:`geo.plan_store.plan_from_saved`); without it no packages or years are drawn.
    city
        The city the analysis was made from (street outlines, zones, roads, building footprints).
    street
        Draw only this street; the page's own street filter still lists every street drawn.
    basemap
        ``none`` (default, offline), ``osm``, ``tianditu`` (key in ``TIANDITU_KEY``) or ``amap`` (geometries
        shifted to GCJ-02 to sit on AMap's tiles).
    lang
        Labels, legend and popups in Chinese (``zh``, default) or English (``en``).
    plan_note
        One line saying which plan is shown (or that none is saved), printed under the title.

    Raises
    ------
    NotFoundError
        ``street`` is not a street of the city.
    DataError
        Unknown basemap, or ``tianditu`` without a key.
    """
    view = View.of(city, analysis.candidates, street=street, basemap=basemap, lang=lang)
    bm, cands = view.bm, view.candidates
    units = analysis.units
    packages = plan.packages if plan is not None else None
    if street is not None:
        units = units[units["street"] == street]
        packages = packages[packages["street"] == street] if packages is not None else None
    strings = StringTable()
    layers = view.under_layers(strings)
    communities = _communities_layer(cands, plan, lang, strings, bm)
    layers.append(communities)
    layers += view.over_layers(strings)
    layers.append(_units_layer(units, lang, strings, bm))
    years: dict[int, str] = {}
    if packages is not None and len(packages):
        years = _year_colours(packages["year"].astype("Int64"))
        layers.append(_packages_layer(packages, lang, strings, bm))
    scattered = _scattered_layer(analysis, city, lang, strings, bm)
    if scattered is not None:
        layers.append(scattered)
    counts = cands["status"].value_counts()
    labels = ui(lang)["status"]
    summary = ("; " if lang == "en" else "；").join(
        f"{labels[s]} {int(counts.get(s, 0))}" for s in ("eligible", "conditional", "excluded")
    )
    with_conditional = 1 in communities["stroke"]
    side = _year_panel(packages, view.street_names(), lang, plan_note) + legend_html(
        _legend(lang, years, with_conditional), lang
    )
    return view.render(
        kind=("规划图", "plan map"),
        profile=analysis.profile,
        subtitle=[plan_note, summary],
        strings=strings,
        layers=layers,
        side=side,
    )


__all__ = ["render_plan_map"]
