"""What a run hands over: every file for people, written from one analysis and plan of a store.

Candidate lists per street (XLSX and GeoJSON, ranked in the street, with each compound's plan year), all
candidates as CSV (ranked in the city), merged units and plan packages as GeoJSON, scattered old buildings and the
yearly totals as CSV, the plan table (计划表) and the progress ledger (台账). Also the facts headings need from a
store: the city's name and the date its data is as of.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from geo.analysis import Analysis, City, street_candidates
from geo.plan_store import plan_years
from geo.policy.profiles import Profile
from geo.progress.store import stage_events
from geo.reports.candidates import write_candidates
from geo.reports.layers import write_packages, write_scattered, write_units
from geo.reports.ledger import write_ledger
from geo.reports.plan_table import plan_rows, works, write_plan_table, write_year_table
from geo.reports.xlsx import Context, city_name
from geo.space.batches import Plan
from geo.stores import Store

#: File names of the outputs in each language.
NAMES: dict[str, dict[str, str]] = {
    "zh": {"plan_table": "计划表", "ledger": "台账"},
    "en": {"plan_table": "plan_table", "ledger": "ledger"},
}


def data_as_of(store: Store) -> dt.date | None:
    """The day the store's data was last changed (layers edited or imported, stages recorded)."""
    stamps = []
    with store.engine.connect() as conn:
        for name in ("streets", "communities", "buildings", "zones", "roads"):
            stamps.append(conn.execute(select(func.max(store.tables[name].c.updated_at))).scalar())
        stamps.append(conn.execute(select(func.max(store.tables["stage_events"].c.recorded_at))).scalar())
    days = [s.date() if isinstance(s, dt.datetime) else dt.date.fromisoformat(str(s)[:10]) for s in stamps if s]
    return max(days) if days else None


def context(city: City, profile: Profile, *, lang: str, data_as_of: dt.date | None) -> Context:
    """The heading facts of every workbook written for ``city`` under ``profile``."""
    return Context.of(profile, city=city_name(city.streets), data_as_of=data_as_of, lang=lang)


def safe_name(name: str) -> str:
    """A file name from a street name (Chinese kept, separators replaced)."""
    return re.sub(r"[^\w\u4e00-\u9fff-]+", "_", name).strip("_") or "street"


def building_counts(city: City) -> pd.Series:
    """栋数: buildings per community id."""
    if city.buildings.empty or "community_id" not in city.buildings:
        return pd.Series(dtype="int64")
    return city.buildings["community_id"].dropna().astype(str).value_counts()


def write_candidate_lists(
    out: Path, *, city: City, analysis: Analysis, years: pd.Series, lang: str, context: Context
) -> list[Path]:
    """A list per street (XLSX and GeoJSON, ranked in the street) and all candidates as CSV (ranked in the city)."""
    profile = analysis.profile
    written = []
    for street in city.street_names():
        cands = street_candidates(analysis, street)
        cands["plan_year"] = cands["community_id"].map(years).astype("Int64")
        for fmt in ("xlsx", "geojson"):
            written.append(
                write_candidates(
                    cands,
                    out / "candidates" / f"{safe_name(street)}.{fmt}",
                    format=fmt,
                    profile=profile,
                    lang=lang,
                    rank_scope="street",
                    context=context,
                )
            )
    everything = analysis.candidates.sort_values(["rank", "community_id"], na_position="last").copy()
    everything["plan_year"] = everything["community_id"].map(years).astype("Int64")
    written.append(
        write_candidates(
            everything, out / "candidates_all.csv", format="csv", profile=profile, lang=lang, rank_scope="city"
        )
    )
    return written


def write_plan_files(
    out: Path,
    *,
    city: City,
    analysis: Analysis,
    plan: Plan,
    lang: str,
    context: Context,
    content: pd.Series | None = None,
) -> list[Path]:
    """The plan's files in ``out``: its yearly totals (plan_years.csv), its packages (plan_packages.geojson) and the
    plan table (计划表, XLSX and CSV). ``content``: 改造内容 per id, when already computed."""
    if content is None:
        content = works(city.communities, survey=city.survey, profile=analysis.profile, lang=lang)
    table = NAMES["en" if lang == "en" else "zh"]["plan_table"]
    written = [
        write_year_table(plan.years, out / "plan_years.csv", lang=lang),
        write_packages(plan.packages, out / "plan_packages.geojson", lang=lang),
    ]
    rows = plan_rows(analysis.candidates, plan.units, works=content, lang=lang)
    return written + write_plan_table(
        rows, xlsx=out / f"{table}.xlsx", csv=out / f"{table}.csv", context=context, lang=lang
    )


def write_ledger_file(
    path: Path,
    *,
    store: Store,
    city: City,
    analysis: Analysis,
    plan_units: pd.DataFrame | None,
    as_of: dt.date,
    lang: str,
    context: Context,
    content: pd.Series | None = None,
) -> Path:
    """The ledger (台账) of the store's stage records against ``plan_units`` (``content``: 改造内容 per id, when
    already computed)."""
    if content is None:
        content = works(city.communities, survey=city.survey, profile=analysis.profile, lang=lang)
    return write_ledger(
        path,
        candidates=analysis.candidates,
        plan_units=plan_units,
        buildings=building_counts(city),
        works=content,
        events=stage_events(store),
        profile=analysis.profile,
        as_of=as_of,
        context=context,
        lang=lang,
    )


def write_outputs(
    out: Path,
    *,
    store: Store,
    city: City,
    analysis: Analysis,
    plan: Plan,
    lang: str,
    context: Context,
    as_of: dt.date | None = None,
) -> list[Path]:
    """Every file for people except the maps, into ``out``; returns the paths in the order written."""
    names = NAMES["en" if lang == "en" else "zh"]
    years = plan_years(plan.units)
    written = write_candidate_lists(out, city=city, analysis=analysis, years=years, lang=lang, context=context)
    written.append(write_units(analysis.units, out / "units.geojson", lang=lang))
    written.append(write_scattered(analysis.scattered, out / "scattered_buildings.csv", lang=lang))
    content = works(city.communities, survey=city.survey, profile=analysis.profile, lang=lang)
    written += write_plan_files(
        out, city=city, analysis=analysis, plan=plan, lang=lang, context=context, content=content
    )
    written.append(
        write_ledger_file(
            out / f"{names['ledger']}.xlsx",
            store=store,
            city=city,
            analysis=analysis,
            plan_units=plan.units,
            as_of=as_of or dt.date.today(),
            lang=lang,
            context=context,
            content=content,
        )
    )
    return written
