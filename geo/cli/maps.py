"""``renewal map``: the offline plan and progress maps for leaders."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import Lang, ProfileFileOpt, ProfileOpt, console, friendly, resolve_profile


def register(app: typer.Typer) -> None:
    app.command("map")(map_cmd)


@friendly
def map_cmd(
    kind: Annotated[str, typer.Argument(help="plan|progress")],
    output: Annotated[Path, typer.Option("--output", help="FILE.html")],
    street: Annotated[str | None, typer.Option("--street")] = None,
    basemap: Annotated[str, typer.Option("--basemap", help="none|osm|tianditu|amap")] = "none",
    as_of: Annotated[str | None, typer.Option("--as-of", help="进度日期 YYYY-MM-DD（默认今天）")] = None,
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    lang: Lang = "zh",
) -> None:
    """领导用的规划图 / 进度图（离线 HTML）/ Offline HTML plan or progress map."""
    from geo.stores import open_store
    from maps.service import render_map

    html = render_map(
        open_store(),
        kind=kind,
        profile=resolve_profile(profile, profile_file),
        street=street,
        basemap=basemap,
        as_of=as_of,
        lang=lang,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    console.print(f"→ {output} ({len(html) / 1e6:.2f} MB)")
