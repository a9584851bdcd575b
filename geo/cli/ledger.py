"""``renewal ledger``: the progress ledger (台账) in the national reporting shape."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import AsOfOpt, Lang, ProfileOpt, as_of_day, console, err_console, friendly, resolve_profile

ledger_app = typer.Typer(help="改造台账 / progress ledger", no_args_is_help=True)


@ledger_app.command("export")
@friendly
def ledger_export(
    output: Annotated[Path, typer.Option("--output", help="台账.xlsx / output file")] = Path("台账.xlsx"),
    as_of: AsOfOpt = None,
    profile: ProfileOpt = None,
    lang: Lang = "zh",
) -> None:
    """导出台账（项目基本情况、年度计划、改造进展、改造效果、阶段记录）/ Export the ledger; stage import reads it."""
    from geo.analysis import analyse, load_city
    from geo.outputs import context, data_as_of, write_ledger_file
    from geo.plan_store import find_plan
    from geo.stores import open_store

    day = as_of_day(as_of)
    prof = resolve_profile(profile, lang=lang)
    store = open_store()
    city = load_city(store)
    analysis = analyse(city, profile=prof, lang=lang)
    saved = find_plan(store, profile=prof.id)
    en = lang == "en"
    if saved is None:
        err_console.print(
            f"No saved plan for {prof.id}: the annual plan sheet is empty (save one with renewal plan --all)"
            if en
            else f"政策 {prof.id} 下没有已保存的计划：年度计划表为空（可先运行 renewal plan --all 保存计划）",
            soft_wrap=True,
        )
    else:
        err_console.print(("annual plan: " if en else "年度计划取自") + saved.label(lang), soft_wrap=True)
    path = write_ledger_file(
        output,
        store=store,
        city=city,
        analysis=analysis,
        plan_units=None if saved is None else saved.units,
        as_of=day,
        lang=lang,
        context=context(city, prof, lang=lang, data_as_of=data_as_of(store)),
    )
    console.print(f"→ {path}")
