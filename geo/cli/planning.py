"""``renewal demo``, ``candidates`` and ``plan``: the analyses a planner runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import Lang, ProfileFileOpt, ProfileOpt, console, err_console, friendly, resolve_profile


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
    app.command("candidates")(candidates_cmd)
    app.command("plan")(plan_cmd)


@friendly
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")] = Path("out"),
    profile: ProfileOpt = None,
    lang: Lang = "zh",
) -> None:
    """示例城市全流程（renewal run 示例城市；默认楚雄政策）/ `renewal run` on the sample city (its own store)."""
    from geo.cli.run import print_summary, progress_display
    from geo.demo import run_demo

    with progress_display(lang) as progress:
        result = run_demo(out=out, lang=lang, profile_id=profile, progress=progress)
    print_summary(console, result, lang=lang)


@friendly
def candidates_cmd(
    street: Annotated[str, typer.Option("--street", help="街道名称 / street name")],
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="json|csv|xlsx|geojson")] = "json",
    output: Annotated[Path | None, typer.Option("--output", help="输出文件（默认打印 JSON）/ output file")] = None,
    lang: Lang = "zh",
) -> None:
    """街道候选清单（街道内排序，含原因、评分、资金、计划年度）/ Ranked candidate list of a street."""
    import json

    from geo.analysis import analyse, load_city, street_candidates
    from geo.outputs import context, data_as_of
    from geo.plan_store import find_plan, plan_years
    from geo.reports.candidates import records, write_candidates
    from geo.stores import open_store

    if output is None and fmt != "json":
        raise typer.BadParameter("--output is required for csv/xlsx/geojson")
    prof = resolve_profile(profile, profile_file, lang=lang)
    store = open_store()
    city = load_city(store)
    analysis = analyse(city, profile=prof, lang=lang)
    cands = street_candidates(analysis, street)
    saved = find_plan(store, profile=prof.id)
    if saved is not None:
        cands["plan_year"] = cands["community_id"].map(plan_years(saved.units)).astype("Int64")
        err_console.print(
            ("plan years from " if lang == "en" else "计划年度取自") + saved.label(lang), soft_wrap=True
        )
    if output is None:
        sys.stdout.write(json.dumps(records(cands), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    ctx = context(city, prof, lang=lang, data_as_of=data_as_of(store))
    write_candidates(cands, output, format=fmt, profile=prof, lang=lang, rank_scope="street", context=ctx)
    console.print(f"{len(cands)} → {output}")


@friendly
def plan_cmd(
    street: Annotated[list[str] | None, typer.Option("--street", help="街道（可多次）/ street (repeatable)")] = None,
    all_streets: Annotated[bool, typer.Option("--all", help="全部街道 / every street")] = False,
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    year_from: Annotated[int, typer.Option("--year-from", help="起始年度 / first year")] = 2026,
    budget_per_year: Annotated[int | None, typer.Option("--budget-per-year", help="年度预算（元）/ yuan")] = None,
    count_per_year: Annotated[int | None, typer.Option("--count-per-year", help="每年小区数上限 / per year")] = None,
    include_conditional: Annotated[
        bool,
        typer.Option(
            "--include-conditional/--no-include-conditional",
            help="按放宽条件纳入的小区是否列入连片单元与计划（默认是，并标明）/ merge and plan communities "
            "admitted by an extension rule (default: yes, marked)",
        ),
    ] = True,
    name: Annotated[str, typer.Option("--name", help="计划名称 / plan name")] = "plan",
    output: Annotated[Path | None, typer.Option("--output", help="输出目录 / output directory")] = None,
    lang: Lang = "zh",
) -> None:
    """分街道实施单元与分年度批次 / Implementation packages and yearly batches.

    Communities admitted on conditions (放宽条件) are planned and marked (有条件纳入), within the profile's annual
    share where it sets one; ``--no-include-conditional`` plans eligible communities only.
    """
    from geo.analysis import analyse, load_city, plan_streets, save_plan
    from geo.outputs import context, data_as_of, write_plan_files
    from geo.reports.layers import write_units
    from geo.reports.plan_table import year_table
    from geo.stores import open_store

    if not street and not all_streets:
        raise typer.BadParameter("give --street NAME or --all")
    prof = resolve_profile(profile, profile_file, lang=lang)
    store = open_store()
    city = load_city(store)
    analysis = analyse(city, profile=prof, lang=lang, include_conditional=include_conditional)
    counts = None
    if count_per_year is not None:
        counts = {year_from + i: count_per_year for i in range(50)}
    plan = plan_streets(
        analysis,
        streets=None if all_streets else street,
        year_from=year_from,
        budget_per_year=budget_per_year,
        count_per_year=counts,
    )
    params = {
        "streets": "all" if all_streets else street,
        "year_from": year_from,
        "budget_per_year": budget_per_year,
        "count_per_year": count_per_year,
        "include_conditional": include_conditional,
    }
    version = save_plan(store, name=name, profile=prof.id, params=params, plan=plan)
    console.print(year_table(plan.years, lang=lang).to_string(index=False))
    for w in plan.warnings:
        err_console.print(f"[yellow]{'Note: ' if lang == 'en' else '注意：'}[/]{w}", soft_wrap=True)
    if output is not None:
        ctx = context(city, prof, lang=lang, data_as_of=data_as_of(store))
        write_plan_files(output, city=city, analysis=analysis, plan=plan, lang=lang, context=ctx)
        write_units(plan.units, output / "plan_units.geojson", lang=lang)
        console.print(f"→ {output}")
    console.print(f"plan {name} v{version}" if lang == "en" else f"计划 {name} 第{version}版")
