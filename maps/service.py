"""Maps over a store: one function the CLI, the demo and the API share."""

from __future__ import annotations

import datetime as dt

from geo.analysis import Analysis, City, analyse, load_city, plan_streets
from geo.errors import DataError
from geo.policy.profiles import Profile
from geo.progress.store import current_stages
from geo.stores import Store

#: Budget and first year used to lay out the plan drawn on maps when the store holds no saved plan parameters.
DEFAULT_YEAR_FROM = dt.date.today().year
MAP_KINDS = ("plan", "progress")


def render_map(
    store: Store,
    *,
    kind: str,
    profile: Profile,
    street: str | None = None,
    basemap: str = "none",
    as_of: str | dt.date | None = None,
    lang: str = "zh",
    city: City | None = None,
    analysis: Analysis | None = None,
    year_from: int | None = None,
    budget_per_year: int | None = None,
) -> str:
    """The HTML of the plan or progress map (complete, offline: Leaflet inlined, no CDN)."""
    from maps.plan import render_plan_map
    from maps.progress import render_progress_map

    if kind not in MAP_KINDS:
        raise DataError(f"地图类型应为 plan 或 progress：{kind}", f"map kind must be plan or progress: {kind}")
    city = city or load_city(store)
    analysis = analysis or analyse(city, profile=profile, lang=lang)
    plan = plan_streets(
        analysis, streets=None, year_from=year_from or DEFAULT_YEAR_FROM, budget_per_year=budget_per_year
    )
    if kind == "plan":
        return render_plan_map(analysis=analysis, plan=plan, city=city, street=street, basemap=basemap, lang=lang)
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else (as_of or dt.date.today())
    return render_progress_map(
        analysis=analysis,
        city=city,
        stages=current_stages(store),
        as_of=day,
        profile=profile,
        plan=plan,
        street=street,
        basemap=basemap,
        lang=lang,
    )
