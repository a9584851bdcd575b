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
    """示例城市全流程（默认楚雄政策）/ Run the whole job on the sample city (embedded store; Chuxiong policy)."""
    from geo.demo import run_demo

    run_demo(out=out, lang=lang, profile_id=profile, console=console)


@friendly
def candidates_cmd(
    street: Annotated[str, typer.Option("--street", help="街道名称 / street name")],
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="json|csv|xlsx|geojson")] = "json",
    output: Annotated[Path | None, typer.Option("--output", help="输出文件（默认打印 JSON）/ output file")] = None,
    lang: Lang = "zh",
) -> None:
    """街道候选清单（排序，含原因、评分、资金）/ Ranked candidate list of a street."""
    import json

    from geo.analysis import analyse, load_city, street_candidates
    from geo.reports.candidates import write_candidates
    from geo.stores import open_store

    prof = resolve_profile(profile, profile_file)
    analysis = analyse(load_city(open_store()), profile=prof, lang=lang)
    cands = street_candidates(analysis, street)
    if output is None:
        if fmt != "json":
            raise typer.BadParameter("--output is required for csv/xlsx/geojson")
        from geo.reports.candidates import _records

        sys.stdout.write(json.dumps(_records(cands), ensure_ascii=False, indent=2, default=str) + "\n")
        return
    write_candidates(cands, output, format=fmt, profile=prof, lang=lang)
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
    from geo.demo import year_table
    from geo.io.cells import csv_frame
    from geo.stores import open_store

    if not street and not all_streets:
        raise typer.BadParameter("give --street NAME or --all")
    prof = resolve_profile(profile, profile_file)
    store = open_store()
    analysis = analyse(load_city(store), profile=prof, lang=lang, include_conditional=include_conditional)
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
        err_console.print(f"[yellow]注意 / note:[/] {w}")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        csv_frame(year_table(plan.years, lang=lang)).to_csv(
            output / "plan_years.csv", index=False, encoding="utf-8-sig"
        )
        for key, frame in (("units", plan.units), ("packages", plan.packages)):
            list_col = "members" if key == "units" else "units"
            frame.assign(**{list_col: frame[list_col].map(lambda m: ",".join(map(str, m)))}).to_crs(4326).to_file(
                output / f"plan_{key}.geojson", driver="GeoJSON"
            )
        console.print(f"→ {output}")
    console.print(f"plan {name} v{version}")
