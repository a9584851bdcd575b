"""The progress map: communities coloured by stage, overdue ones outlined red, a per-street panel of figures.

The figures a district reports upward: communities at each stage, the year's target reached, households benefited
and money against budget, for the whole city or the street picked in the page's filter. Counting conventions (the
seeds do not define them): a community counts towards the year's target, and its households as benefited, from
the start of construction (开工), as national statistics count renovations; money "spent" is the estimated cost of
the communities under construction or beyond, set against the cost of the year's planned communities.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import Analysis, City
from geo.policy.profiles import Profile
from geo.progress.rules import project_status
from geo.space.batches import Plan
from maps._common import bounds, page_data, select_street, streets_layer, ui, within, zones_layer
from maps._encode import StringTable, encode_polygons, ints
from maps._page import render_page
from maps.basemaps import basemap as get_basemap

#: Stage colours, first stage to last (sampled evenly when a profile has fewer stages).
STAGE_COLOURS = (
    "#fde725",
    "#b5de2b",
    "#6ece58",
    "#35b779",
    "#1f9e89",
    "#26828e",
    "#31688e",
    "#3e4989",
    "#482878",
    "#440154",
    "#2d0a3e",
    "#1a0526",
)
NO_STAGE_COLOUR = "#e0e0e0"
OVERDUE = {"color": "#d7191c", "weight": 3.5, "opacity": 1}
DUE_SOON = {"color": "#f28e2b", "weight": 2.5, "dashArray": "4 3", "opacity": 1}
PLAIN = {"color": "#666", "weight": 0.6, "opacity": 1}
PROGRESS_COLUMNS = [
    "community_id",
    "street",
    "households",
    "cost_yuan",
    "stage",
    "date",
    "plan_year",
    "status",
    "reason",
]


def _plan_years(plan: Plan | None) -> pd.Series:
    if plan is None or plan.units.empty:
        return pd.Series(dtype="Int64")
    members = plan.units[["members", "year"]].explode("members").dropna(subset=["members"])
    return members.set_index("members")["year"].astype("Int64")


def community_progress(
    *,
    analysis: Analysis,
    stages: pd.DataFrame,
    as_of: dt.date,
    profile: Profile,
    plan: Plan | None = None,
    lang: str = "zh",
) -> pd.DataFrame:
    """One row per community: its current stage and date, plan year, and deadline status as of ``as_of``.

    ``status`` and ``reason`` come from :func:`geo.progress.project_status`, with each community's current stage
    standing for its history (stages are recorded in order, so reaching it means every earlier stage was reached).
    Communities with neither a stage nor a plan year have no status (nothing is due for them).
    """
    cands = analysis.candidates
    current = stages.drop_duplicates("community_id", keep="last").set_index("community_id")
    frame = pd.DataFrame(
        {
            "community_id": cands["community_id"].to_numpy(),
            "street": cands["street"].to_numpy(),
            "households": cands["households"].to_numpy(),
            "cost_yuan": cands["cost_yuan"].to_numpy(),
        }
    )
    frame["stage"] = frame["community_id"].map(current["stage"]).astype(object)
    frame["date"] = frame["community_id"].map(current["date"]).astype(object)
    frame["plan_year"] = frame["community_id"].map(_plan_years(plan)).astype("Int64")
    frame["stage"] = frame["stage"].where(frame["stage"].notna(), None)
    frame["date"] = frame["date"].where(frame["date"].notna(), None)
    years = [None if pd.isna(y) else int(y) for y in frame["plan_year"]]
    keys = pd.Series(list(zip(frame["stage"], frame["date"], years, strict=True)), index=frame.index)
    verdicts: dict[tuple[Any, ...], tuple[str | None, str | None]] = {}
    for key in dict.fromkeys(keys):
        stage, date, year = key
        if stage is None and year is None:
            verdicts[key] = (None, None)
            continue
        history = [] if stage is None else [{"event_id": 1, "stage": stage, "date": date, "corrects": None}]
        verdicts[key] = project_status(profile, history=history, plan_year=year, as_of=as_of, lang=lang)
    pairs = keys.map(verdicts)
    frame["status"] = [p[0] for p in pairs]
    frame["reason"] = [p[1] for p in pairs]
    return frame[PROGRESS_COLUMNS]


def _started_from(profile: Profile) -> int:
    codes = [s.code for s in profile.stages]
    return codes.index("construction") if "construction" in codes else len(codes) - 1


def street_figures(
    progress: pd.DataFrame, *, profile: Profile, as_of: dt.date, has_plan: bool, lang: str = "zh"
) -> dict[str, list[list[Any]]]:
    """Panel rows ``[label, value, indented]`` for the whole city (key ``""``) and for each street.

    The year's target is the profile's target covering ``as_of.year`` for the whole city, else (and for each
    street) the number of communities the plan puts in that year.
    """
    en = lang == "en"
    codes = [s.code for s in profile.stages]
    order = {c: i for i, c in enumerate(codes)}
    position = progress["stage"].map(order)
    started = position.fillna(-1).to_numpy() >= _started_from(profile)
    year = as_of.year
    this_year = (progress["plan_year"] == year).fillna(False).to_numpy(dtype=bool)
    dated_this_year = np.array([d is not None and d.year == year for d in progress["date"]], dtype=bool)
    target = next((t for t in profile.targets if year in t.years), None)
    target_years = set(target.years) if target is not None else {year}
    dated_in_target = np.array([d is not None and d.year in target_years for d in progress["date"]], dtype=bool)
    out: dict[str, list[list[Any]]] = {}
    groups = [("", np.ones(len(progress), dtype=bool))]
    groups += [(s, (progress["street"] == s).to_numpy()) for s in sorted(progress["street"].dropna().unique())]
    for name, mask in groups:
        rows: list[list[Any]] = [["Communities" if en else "小区总数", f"{int(mask.sum()):,}", False]]
        for code in codes:
            count = int((mask & (progress["stage"] == code).to_numpy()).sum())
            label = profile.stage(code).zh if not en else code  # type: ignore[union-attr]
            rows.append([label, f"{count:,}", True])
        rows.append([ui(lang)["no_stage"], f"{int((mask & progress['stage'].isna().to_numpy()).sum()):,}", True])
        overdue = int((mask & (progress["status"] == "overdue").to_numpy()).sum())
        due_soon = int((mask & (progress["status"] == "due_soon").to_numpy()).sum())
        rows.append([ui(lang)["status"]["overdue"], f"{overdue:,}", False])
        rows.append([ui(lang)["status"]["due_soon"], f"{due_soon:,}", False])
        if name == "" and target is not None:
            goal = target.communities
            reached = int((mask & started & dated_in_target).sum())
            span = f"{target.years[0]}–{target.years[-1]}" if len(target.years) > 1 else str(target.years[0])
        elif has_plan:
            goal = int((mask & this_year).sum())
            reached = int((mask & started & this_year).sum())
            span = str(year)
        else:
            goal, reached, span = 0, 0, str(year)
        share = f"{reached:,} / {goal:,} ({reached / goal:.1%})" if goal else "—"
        rows.append([f"{span} target reached (started)" if en else f"{span}年目标完成（已开工）", share, False])
        households = int(progress.loc[mask & started, "households"].fillna(0).sum())
        rows.append(["Households benefited" if en else "受益户数", f"{households:,}", False])
        in_year = this_year if has_plan else dated_this_year
        spent = int(progress.loc[mask & started & in_year, "cost_yuan"].fillna(0).sum())
        budget = int(progress.loc[mask & this_year, "cost_yuan"].fillna(0).sum()) if has_plan else 0
        money = f"{spent:,} / {budget:,} ({spent / budget:.1%})" if budget else f"{spent:,} / —"
        rows.append([f"{year} spent / budget (yuan)" if en else f"{year}年已开工投资/预算（元）", money, False])
        out[name] = rows
    return out


def _stage_colours(profile: Profile) -> list[str]:
    n = len(profile.stages)
    picks = np.linspace(0, len(STAGE_COLOURS) - 1, n).round().astype(int)
    return [STAGE_COLOURS[i] for i in picks]


def render_progress_map(
    *,
    analysis: Analysis,
    city: City,
    stages: pd.DataFrame,
    as_of: dt.date,
    profile: Profile,
    plan: Plan | None = None,
    street: str | None = None,
    basemap: str = "none",
    lang: str = "zh",
) -> str:
    """The progress map as one complete HTML document (Leaflet inlined; works with no network).

    Parameters
    ----------
    analysis
        From :func:`geo.analysis.analyse` (community outlines, households, estimated cost).
    city
        Street outlines and zones.
    stages
        Current stage per community (``community_id``, ``stage``, ``date``), as
        :func:`geo.progress.store.current_stages` returns it.
    as_of
        Date the data is shown for: deadlines are judged on it and it is printed on the map.
    profile
        Policy profile: stage order and names, deadlines, yearly targets.
    plan
        Gives each community its plan year (for deadlines relative to it) and the year's budget.
    street, basemap, lang
        As for :func:`maps.plan.render_plan_map`.
    """
    bm = get_basemap(basemap)
    area = select_street(city, street)
    cands = analysis.candidates
    if street is not None:
        cands = cands[cands["street"] == street]
    view = Analysis(cands, analysis.units, analysis.membership, analysis.scattered, analysis.profile, lang)
    progress = community_progress(analysis=view, stages=stages, as_of=as_of, profile=profile, plan=plan, lang=lang)
    strings = StringTable()
    en = lang == "en"
    codes = [s.code for s in profile.stages]
    colours = [*_stage_colours(profile), NO_STAGE_COLOUR]
    fill = progress["stage"].map({c: i for i, c in enumerate(codes)}).fillna(len(codes)).astype(int)
    stroke_of = {"overdue": 0, "due_soon": 1}
    stroke = progress["status"].map(stroke_of).fillna(2).astype(int)
    stage_label = {s.code: (s.zh if not en else s.code) for s in profile.stages}
    shown = bm.to_display(
        gpd.GeoDataFrame(cands[["community_id", "name"]], geometry=cands.geometry.values, crs=cands.crs)
    )
    layers: list[dict[str, Any]] = [streets_layer(area, bm, lang)]
    zones = within(city.zones, area)
    if len(zones):
        layers.append(zones_layer(zones, bm, lang, strings))
    layers.append(
        {
            "id": "communities",
            "name": ui(lang)["communities"],
            "type": "polygon",
            "geom": encode_polygons(shown.geometry.values),
            "style": {"fillOpacity": 0.8},
            "colors": colours,
            "fill": fill.tolist(),
            "strokes": [OVERDUE, DUE_SOON, PLAIN],
            "stroke": stroke.tolist(),
            "renderer": "canvas" if len(shown) > 3000 else "svg",
            "popup": "progress",
            "search": True,
            "street": strings.column(progress["street"]),
            "props": {
                "id": strings.column(progress["community_id"]),
                "name": strings.column(shown["name"]),
                "street": strings.column(progress["street"]),
                "stage": strings.column(progress["stage"].map(stage_label)),
                "date": strings.column(d.isoformat() if d is not None else None for d in progress["date"]),
                "year": ints(progress["plan_year"]),
                "households": ints(progress["households"]),
                "cost": ints(progress["cost_yuan"]),
                "status": strings.column(progress["status"]),
                "reason": strings.column(progress["reason"]),
            },
        }
    )
    legend = [
        {
            "title": "Current stage" if en else "当前阶段",
            "items": [
                {"swatch": {"fill": c}, "label": stage_label[code]} for code, c in zip(codes, colours, strict=False)
            ]
            + [{"swatch": {"fill": NO_STAGE_COLOUR}, "label": ui(lang)["no_stage"]}],
        },
        {
            "title": "Deadlines" if en else "时限",
            "items": [
                {"swatch": {"stroke": OVERDUE["color"], "width": 3}, "label": ui(lang)["status"]["overdue"]},
                {
                    "swatch": {"stroke": DUE_SOON["color"], "width": 2, "dash": True},
                    "label": ui(lang)["status"]["due_soon"],
                },
                {"swatch": {"stroke": "#3d3d3d", "width": 2}, "label": ui(lang)["streets"]},
            ],
        },
    ]
    figures = street_figures(progress, profile=profile, as_of=as_of, has_plan=plan is not None, lang=lang)
    title = f"{profile.name.get(lang)} — {'progress map' if en else '改造进度图'}"
    subtitle = f"Data as of {as_of.isoformat()}" if en else f"数据截至 {as_of.isoformat()}"
    street_names = [s for s in (area["name"].tolist() or sorted(cands["street"].dropna().unique())) if s]
    data = page_data(
        title=title,
        subtitle=subtitle,
        lang=lang,
        bm=bm,
        strings=strings,
        streets=street_names,
        layers=layers,
        legend=legend,
        extent=bounds([bm.to_display(f) for f in (area, cands) if len(f)]),
        panel={"title": "Figures" if en else "统计", "rows": figures},
    )
    return render_page(title=title, data=data, lang=lang)
