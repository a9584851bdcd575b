"""``renewal map``: the offline plan and progress maps for leaders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import (
    AsOfOpt,
    Lang,
    PlanOpt,
    ProfileFileOpt,
    ProfileOpt,
    as_of_day,
    console,
    friendly,
    resolve_profile,
)


def register(app: typer.Typer) -> None:
    app.command("map")(map_cmd)


@friendly
def map_cmd(
    kind: Annotated[str, typer.Argument(help="plan|progress")],
    output: Annotated[Path, typer.Option("--output", help="FILE.html")],
    street: Annotated[str | None, typer.Option("--street")] = None,
    basemap: Annotated[str, typer.Option("--basemap", help="none|osm|tianditu|amap")] = "none",
    as_of: AsOfOpt = None,
    plan: PlanOpt = None,
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    lang: Lang = "zh",
) -> None:
    """领导用的规划图 / 进度图（离线 HTML，最近保存的规划）/ Offline HTML plan or progress map of the saved plan."""
    from geo.plan_store import find_plan
    from geo.settings import policy_settings
    from geo.stores import open_store
    from maps._assets import missing_tools_note
    from maps.service import map_profile, plan_note, render_map

    store = open_store()
    if profile_file is not None:
        prof = resolve_profile(profile, profile_file)
    else:
        prof = map_profile(store, profile=profile, plan_id=plan, default=policy_settings().profile)
    html = render_map(
        store,
        kind=kind,
        profile=prof,
        plan_id=plan,
        street=street,
        basemap=basemap,
        as_of=as_of_day(as_of),
        lang=lang,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    console.print(plan_note(find_plan(store, profile=prof.id, plan_id=plan), profile=prof, lang=lang), soft_wrap=True)
    console.print(f"→ {output} ({len(html) / 1e6:.2f} MB)")
    note = missing_tools_note(lang)
    if note:
        console.print(note, soft_wrap=True)
