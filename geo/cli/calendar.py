"""``renewal calendar``: the official holiday schedule for years the bundled calendar lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import Lang, console, err_console, friendly, user_name

calendar_app = typer.Typer(help="法定节假日与调休 / official holidays and make-up working days", no_args_is_help=True)


@calendar_app.command("import")
@friendly
def calendar_import(
    path: Annotated[Path, typer.Argument(help="CSV / XLSX：日期、类型（假日/调休上班）、名称、依据")],
    encoding: Annotated[str | None, typer.Option(help="CSV 编码，如 GBK / CSV text encoding")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="导入人（默认当前系统用户）/ who imports it")] = None,
    lang: Lang = "zh",
) -> None:
    """导入国务院办公厅节假日安排（按年度替换）/ Add a year's official holidays and make-up days (replaces it)."""
    from geo.progress.calendar import import_calendar
    from geo.stores import open_store

    done = import_calendar(open_store(), path, actor=actor or user_name(), encoding=encoding)
    console.print(done.summary(lang), soft_wrap=True)
    for w in done.warnings:
        err_console.print(f"[yellow]注意 / note:[/] {w}", soft_wrap=True)


@calendar_app.command("show")
@friendly
def calendar_show(year: Annotated[int, typer.Argument(help="年度 / year")], lang: Lang = "zh") -> None:
    """列出一年的假日和调休上班日及依据 / List a year's holidays and make-up working days with their source."""
    from geo.progress.calendar import load_calendar
    from geo.stores import open_store

    en = lang == "en"
    labels = {"holiday": "holiday" if en else "假日", "workday": "make-up working day" if en else "调休上班"}
    days = load_calendar(open_store()).days(year)
    for d in days:
        console.print(f"{d.date.isoformat()}  {labels[d.kind]:<8}  {d.name or ''}  {d.source}", highlight=False)
    sources = sorted({d.source for d in days})
    console.print(("source: " if en else "依据：") + "; ".join(sources), highlight=False)
