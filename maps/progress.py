"""The progress map: compounds coloured by stage, overdue ones outlined red, and a side panel leaders read.

The side panel holds what a district reports upward: a table comparing the streets (compounds by phase, overdue,
investment started against the year's plan), the figures of the street picked, two charts (stages by street,
investment by year) and the list of overdue compounds with the deadline and the clause behind it. Counting
conventions (the seeds do not define them): a compound counts towards the year's target, and its households as
benefited, from the start of construction (开工), as national statistics count renovations; money "started" is the
estimated cost of the compounds under construction or beyond, set against the cost the plan puts in the year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.analysis import Analysis, City
from geo.plan_store import plan_years
from geo.policy.profiles import Profile, source_text
from geo.progress.rules import pressing_deadline, project_status
from geo.reports.labels import stage_name
from geo.space.batches import Plan
from maps._common import (
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
from maps._encode import StringTable, encode_polygons, ints
from maps.charts import grouped_bars, stacked_bars

#: Stages before construction go from yellow to brown, construction is purple, later stages go from green
#: to dark blue: neighbours differ in hue or lightness, and the last stages stay apart from each other.
BEFORE_COLOURS = ("#fee391", "#fec44f", "#fe9929", "#ec7014", "#cc4c02", "#8c2d04")
CONSTRUCTION_COLOUR = "#8e44ad"
AFTER_COLOURS = ("#a6dba0", "#4dac26", "#1b7837", "#35978f", "#2166ac", "#053061")
NO_STAGE_COLOUR = "#e8e8e8"
OVERDUE = {"color": "#d7191c", "weight": 3.5, "opacity": 1, "dashArray": None}
DUE_SOON = {"color": "#e66101", "weight": 2.5, "dashArray": "4 3", "opacity": 1}
PLAIN = {"color": "#666", "weight": 0.6, "opacity": 1, "dashArray": None}
#: Overdue compounds listed per street in the side panel (the worst first); the rest are counted.
OVERDUE_LISTED = 50
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
    "due",
    "clause",
]


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

    ``status`` and ``reason`` come from :func:`geo.progress.rules.project_status`, ``due`` and ``clause`` (the rule's
    text and source) from :func:`geo.progress.rules.pressing_deadline`, with each community's current stage
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
    frame["plan_year"] = frame["community_id"].map(plan_years(None if plan is None else plan.units)).astype("Int64")
    frame["stage"] = frame["stage"].where(frame["stage"].notna(), None)
    frame["date"] = frame["date"].where(frame["date"].notna(), None)
    years = [None if pd.isna(y) else int(y) for y in frame["plan_year"]]
    keys = pd.Series(list(zip(frame["stage"], frame["date"], years, strict=True)), index=frame.index)
    verdicts: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for key in dict.fromkeys(keys):
        stage, date, year = key
        if stage is None and year is None:
            verdicts[key] = (None, None, None, None)
            continue
        history = [] if stage is None else [{"event_id": 1, "stage": stage, "date": date, "corrects": None}]
        status, reason = project_status(profile, history=history, plan_year=year, as_of=as_of, lang=lang)
        pressing = pressing_deadline(profile, history=history, plan_year=year)
        due, rule = pressing if pressing is not None else (None, None)
        clause = None if rule is None else _clause(rule.text.get(lang), source_text(rule.source, lang), lang)
        verdicts[key] = (status, reason, due, clause)
    found = keys.map(verdicts)
    for i, column in enumerate(("status", "reason", "due", "clause")):
        frame[column] = [v[i] for v in found]
    return frame[PROGRESS_COLUMNS]


def _clause(text: str, source: str, lang: str) -> str:
    """A deadline rule and its source, as the overdue list prints it."""
    return f"{text} ({source})" if lang == "en" else f"{text}（{source}）"


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
            rows.append([stage_name(code, lang, profile=profile), f"{count:,}", True])
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
        money_text = f"{spent:,} / {budget:,} ({spent / budget:.1%})" if budget else f"{spent:,} / —"
        rows.append(
            [f"{year} started / planned (yuan)" if en else f"{year}年已开工投资/计划投资（元）", money_text, False]
        )
        out[name] = rows
    return out


def stage_colours(profile: Profile) -> list[str]:
    """One colour per stage of ``profile``, in order (see :data:`BEFORE_COLOURS`, :data:`AFTER_COLOURS`)."""
    codes = [s.code for s in profile.stages]
    c = _started_from(profile)

    def ramp(palette: tuple[str, ...], n: int) -> list[str]:
        if n == 0:
            return []
        picks = np.linspace(0, len(palette) - 1, n).round().astype(int)
        return [palette[i] for i in picks]

    return [*ramp(BEFORE_COLOURS, c), CONSTRUCTION_COLOUR, *ramp(AFTER_COLOURS, len(codes) - c - 1)]


def _phases(progress: pd.DataFrame, profile: Profile) -> np.ndarray:
    """0 not started, 1 before construction, 2 under construction, 3 completed or later."""
    order = {s.code: i for i, s in enumerate(profile.stages)}
    position = progress["stage"].map(order).fillna(-1).to_numpy()
    c = _started_from(profile)
    return np.select([position < 0, position < c, position == c], [0, 1, 2], default=3)


def _street_table(progress: pd.DataFrame, profile: Profile, *, year: int, has_plan: bool, lang: str) -> str:
    en = lang == "en"
    phase = _phases(progress, profile)
    started = phase >= 2
    this_year = (progress["plan_year"] == year).fillna(False).to_numpy(dtype=bool)
    overdue = (progress["status"] == "overdue").to_numpy()
    unit = money_unit(lang)
    head = (
        [
            "Street",
            "Comm.",
            "Not started",
            "Preparing",
            "Building",
            "Done",
            "Overdue",
            f"{year} started / planned ({unit})",
        ]
        if en
        else ["街道", "小区", "未开始", "前期", "施工", "竣工后", "逾期", f"{year}年投资：已开工/计划（{unit}）"]
    )

    def cells(mask: np.ndarray) -> list[str]:
        spent = float(progress.loc[mask & started & this_year, "cost_yuan"].fillna(0).sum())
        planned = float(progress.loc[mask & this_year, "cost_yuan"].fillna(0).sum())
        n_overdue = int((mask & overdue).sum())
        return [
            f"{int(mask.sum()):,}",
            *(f"{int((mask & (phase == p)).sum()):,}" for p in range(4)),
            f"<span class='rn-bad'>{n_overdue:,}</span>" if n_overdue else "0",
            f"{money(spent, lang)} / {money(planned, lang) if has_plan else '—'}",
        ]

    streets = sorted(progress["street"].dropna().unique())
    rows = [
        ([esc(s), *cells((progress["street"] == s).to_numpy())], {"class": "rn-pick", "data-street": s})
        for s in streets
    ]
    foot = ["Total" if en else "合计", *cells(np.ones(len(progress), dtype=bool))]
    title = "Streets compared (click a row to show it)" if en else "各街道对比（点击一行查看该街道）"
    return f"<h2>{esc(title)}</h2>" + table_html(head, rows, foot=foot)


def _figures_html(figures: dict[str, list[list[Any]]], lang: str) -> str:
    title = "Figures" if lang == "en" else "统计"
    parts = []
    for street, rows in figures.items():
        body = "".join(
            f"<tr{' class=rn-ind' if r[2] else ''}><td>{'　' * r[2]}{esc(r[0])}</td><td>{esc(r[1])}</td></tr>"
            for r in rows
        )
        heading = f"{title} · {street or ui(lang)['all_streets']}"
        parts.append(
            f"<div class='rn-section' data-street='{esc(street)}'><h2>{esc(heading)}</h2>"
            f"<table class='rn-panel'>{body}</table></div>"
        )
    return "".join(parts)


def _charts_html(progress: pd.DataFrame, profile: Profile, plan: Plan | None, colours: list[str], lang: str) -> str:
    en = lang == "en"
    codes = [s.code for s in profile.stages]
    streets = sorted(progress["street"].dropna().unique())
    series = [*(stage_name(c, lang, profile=profile) for c in codes), ui(lang)["no_stage"]]
    counts = (
        pd.crosstab(progress["street"], progress["stage"].fillna("_none"))
        .reindex(index=streets, columns=[*codes, "_none"], fill_value=0)
        .to_numpy()
    )
    stages = stacked_bars(
        title="Communities by stage and street" if en else "各街道小区改造阶段",
        rows=streets,
        series=series,
        colours=[*colours, NO_STAGE_COLOUR],
        counts=counts,
    )
    started = _phases(progress, profile) >= 2
    if plan is not None and not plan.years.empty:
        years = [int(y) for y in plan.years["year"]]
        planned = plan.years.set_index("year")["cost_yuan"].reindex(years).fillna(0).to_numpy(dtype=float)
        by_year = progress["plan_year"]
    else:
        by_year = pd.Series([d.year if d is not None else None for d in progress["date"]], dtype="Int64")
        years = sorted({int(y) for y in by_year[started].dropna()})
        planned = np.zeros(len(years))
    spent = (
        progress.loc[started].assign(y=by_year[started].to_numpy()).groupby("y")["cost_yuan"].sum()
        if started.any()
        else pd.Series(dtype=float)
    )
    done = spent.reindex(years).fillna(0).to_numpy(dtype=float)
    scale = 1e6 if en else 1e4
    money_chart = grouped_bars(
        title="Investment by plan year" if en else "分年度投资",
        groups=[str(y) for y in years],
        series=["planned", "started (construction or later)"] if en else ["计划投资", "已开工投资"],
        colours=["#bdbdbd", CONSTRUCTION_COLOUR],
        values=np.column_stack([planned / scale, done / scale]) if years else np.zeros((0, 2)),
        unit=money_unit(lang),
    )
    return f"<h2>{'Charts' if en else '图表'}</h2>{stages}{money_chart}"


def overdue_rows(progress: pd.DataFrame, strings: StringTable, as_of: dt.date, lang: str) -> dict[str, Any]:
    """The overdue list as compact data the page's runtime turns into a table (a street's rows when one is picked).

    Rows ``[feature index, days late, deadline, clause]`` (dates and clauses as string-table indices), the most
    overdue first, at most :data:`OVERDUE_LISTED` per street; ``total`` counts every overdue compound.
    """
    en = lang == "en"
    late = progress[(progress["status"] == "overdue") & progress["due"].notna()]
    days = np.array([(as_of - d).days for d in late["due"]], dtype=np.int64)
    order = np.lexsort((late["community_id"].to_numpy(), -days))
    late = late.iloc[order].assign(days=days[order])
    shown = late.groupby("street", sort=False).head(OVERDUE_LISTED)
    return {
        "total": len(late),
        "limit": OVERDUE_LISTED,
        "head": ["Community", "Street", "Stage", "Deadline", "Days late", "Rule"]
        if en
        else ["小区", "街道", "当前阶段", "期限", "逾期天数", "依据"],
        "none": "None." if en else "无。",
        "more": "{n} more overdue communities are not listed (the {limit} most overdue of each street are)."
        if en
        else "另有{n}个逾期小区未列出（每个街道列出逾期最久的{limit}个）。",
        "rows": [
            [int(i), int(d), strings.add(due.isoformat()), strings.add(clause)]
            for i, d, due, clause in zip(shown.index, shown["days"], shown["due"], shown["clause"], strict=True)
        ],
    }


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
    plan_note: str = "",
) -> str:
    """The progress map as one complete HTML document (every library inlined; works with no network).

    Parameters
    ----------
    analysis
        From :func:`geo.analysis.analyse` (community outlines, households, estimated cost).
    city
        Street outlines, zones and roads.
    stages
        Current stage per community (``community_id``, ``stage``, ``date``), as
        :func:`geo.progress.store.current_stages` returns it.
    as_of
        Date the data is shown for: deadlines are judged on it and it is printed on the map.
    profile
        Policy profile: stage order and names, deadlines, yearly targets.
    plan
        The saved plan: each community's plan year (for deadlines relative to it), the year's planned money.
    street, basemap, lang, plan_note
        As for :func:`maps.plan.render_plan_map`.
    """
    view = View.of(city, analysis.candidates, street=street, basemap=basemap, lang=lang)
    cands = view.candidates
    in_view = replace(analysis, candidates=cands)
    progress = community_progress(analysis=in_view, stages=stages, as_of=as_of, profile=profile, plan=plan, lang=lang)
    strings = StringTable()
    en = lang == "en"
    codes = [s.code for s in profile.stages]
    colours = [*stage_colours(profile), NO_STAGE_COLOUR]
    fill = progress["stage"].map({c: i for i, c in enumerate(codes)}).fillna(len(codes)).astype(int)
    stroke = progress["status"].map({"overdue": 0, "due_soon": 1}).fillna(2).astype(int)
    shown = view.bm.to_display(
        gpd.GeoDataFrame(cands[["community_id", "name"]], geometry=cands.geometry.values, crs=cands.crs)
    )
    layers = view.under_layers(strings)
    stage_texts = [stage_name(s, lang, profile=profile) if s else None for s in progress["stage"]]
    date_texts = [d.isoformat() if d is not None else None for d in progress["date"]]
    strings.prime(progress["street"], progress["status"], stage_texts, date_texts)
    layers.append(
        {
            "id": "communities",
            "name": ui(lang)["communities"],
            "type": "polygon",
            "geom": encode_polygons(shown.geometry.values),
            "style": {"fillOpacity": 0.85},
            "colors": colours,
            "fill": fill.tolist(),
            "strokes": [OVERDUE, DUE_SOON, PLAIN],
            "stroke": stroke.tolist(),
            "renderer": renderer(len(shown)),
            "popup": "progress",
            "search": True,
            "street": strings.column(progress["street"]),
            "props": {
                "id": strings.column(progress["community_id"]),
                "name": strings.column(shown["name"]),
                "stage": strings.column(stage_texts),
                "date": strings.column(date_texts),
                "year": ints(progress["plan_year"]),
                "households": ints(progress["households"]),
                "cost": ints(progress["cost_yuan"]),
                "status": strings.column(progress["status"]),
                "reason": strings.column(progress["reason"]),
            },
        }
    )
    layers += view.over_layers(strings)
    outline = outline_legend(lang)
    legend = [
        {
            "title": "Current stage" if en else "当前阶段",
            "items": [
                {"swatch": {"fill": c}, "label": stage_name(code, lang, profile=profile)}
                for code, c in zip(codes, colours, strict=False)
            ]
            + [{"swatch": {"fill": NO_STAGE_COLOUR}, "label": ui(lang)["no_stage"]}],
        },
        {
            "title": "Deadlines and outlines" if en else "时限与边界",
            "items": [
                {"swatch": {"stroke": OVERDUE["color"], "width": 3}, "label": ui(lang)["status"]["overdue"]},
                {
                    "swatch": {"stroke": DUE_SOON["color"], "width": 2, "dash": True},
                    "label": ui(lang)["status"]["due_soon"],
                },
                outline["streets"],
                outline["roads"],
                outline["zones"],
            ],
        },
    ]
    has_plan = plan is not None
    figures = street_figures(progress, profile=profile, as_of=as_of, has_plan=has_plan, lang=lang)
    overdue = overdue_rows(progress, strings, as_of, lang)
    side = (
        _street_table(progress, profile, year=as_of.year, has_plan=has_plan, lang=lang)
        + _figures_html(figures, lang)
        + _charts_html(progress, profile, plan, colours[:-1], lang)
        + f"<h2>{'Overdue communities' if en else '逾期小区'}（{overdue['total']:,}）</h2><div id='rn-overdue'></div>"
        + legend_html(legend, lang)
    )
    as_of_line = f"Data as of {as_of.isoformat()}" if en else f"数据截至 {as_of.isoformat()}"
    return view.render(
        kind=("进度图", "progress map"),
        profile=profile,
        subtitle=[plan_note, as_of_line],
        strings=strings,
        layers=layers,
        side=side,
        extra={"overdue": overdue},
    )
