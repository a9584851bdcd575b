"""Maps over a store: one function the CLI, the demo, the API and share links share.

Maps show a saved plan — the latest one saved for the profile, or the one asked for by number — never a re-plan
with other parameters, and say which plan they show; without a saved plan they say so and draw no plan years.
"""

from __future__ import annotations

import datetime as dt

from geo.analysis import Analysis, City, analyse, load_city
from geo.errors import DataError
from geo.plan_store import SavedPlan, check_plan_profile, find_plan, plan_from_saved
from geo.policy.profiles import Profile, load_profile
from geo.progress.store import current_stages
from geo.stores import Store

MAP_KINDS = ("plan", "progress")


def plan_note(saved: SavedPlan | None, *, profile: Profile, lang: str) -> str:
    """The line a map prints about its plan: which one, or that the profile has none saved."""
    if saved is not None:
        return ("Showing " if lang == "en" else "显示") + saved.describe(lang)
    if lang == "en":
        return (
            f"No plan saved for {profile.id}: plan years are not shown "
            f"(save one with: renewal plan --all --profile {profile.id} --budget-per-year YUAN)"
        )
    return (
        f"政策 {profile.id} 尚无已保存的规划，图中不显示计划年度"
        f"（保存规划：renewal plan --all --profile {profile.id} --budget-per-year 年度预算）"
    )


def map_profile(store: Store, *, profile: str | None, plan_id: int | None, default: str) -> Profile:
    """The profile a map is drawn under: the one named, else the plan's (with ``plan_id``), else ``default``."""
    if profile is None and plan_id is not None:
        saved = find_plan(store, plan_id=plan_id)
        return load_profile(saved.profile)  # type: ignore[union-attr] - find_plan raises for an unknown number
    return load_profile(profile or default)


def render_map(
    store: Store,
    *,
    kind: str,
    profile: Profile,
    plan_id: int | None = None,
    street: str | None = None,
    basemap: str = "none",
    as_of: dt.date | None = None,
    lang: str = "zh",
    city: City | None = None,
    analysis: Analysis | None = None,
) -> str:
    """The HTML of the plan or progress map (complete, offline: every library inlined, no CDN).

    Parameters
    ----------
    plan_id
        The saved plan to show; by default the latest plan saved for ``profile`` (none drawn when there is none).
    as_of
        The day the progress map judges deadlines on (default: today).
    city, analysis
        The store's city and its analysis under ``profile`` when the caller has them already (a cache, a run).

    Raises
    ------
    NotFoundError
        No plan ``plan_id``, or no street ``street``.
    DataError
        Unknown kind or basemap, or plan ``plan_id`` made under another profile.
    """
    from maps.plan import render_plan_map
    from maps.progress import render_progress_map

    if kind not in MAP_KINDS:
        raise DataError(f"地图类型应为 plan 或 progress：{kind}", f"map kind must be plan or progress: {kind}")
    saved = find_plan(store, profile=profile.id, plan_id=plan_id)
    check_plan_profile(saved, profile)
    city = city or load_city(store)
    analysis = analysis or analyse(city, profile=profile, lang=lang)
    plan = plan_from_saved(saved, analysis) if saved is not None else None
    note = plan_note(saved, profile=profile, lang=lang)
    if kind == "plan":
        return render_plan_map(
            analysis=analysis, plan=plan, city=city, street=street, basemap=basemap, lang=lang, plan_note=note
        )
    day = as_of or dt.date.today()
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
        plan_note=note,
    )
