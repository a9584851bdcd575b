"""The ``renewal`` command line (Typer). Thin: each command parses options and calls the library."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from geo.errors import RenewalError
from geo.settings import policy_settings

app = typer.Typer(
    help="城镇老旧小区改造规划工具 / Old-residential-community renovation planning.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
console = Console()
err_console = Console(stderr=True)

Lang = Annotated[str, typer.Option("--lang", help="输出语言 zh|en / output language")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="政策配置 / policy profile (RENEWAL_PROFILE)")]


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a RenewalError into its message and exit code 2 (no traceback for bad input)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RenewalError as exc:
            lang = kwargs.get("lang") or policy_settings().lang
            err_console.print(f"[bold red]错误 / error:[/] {exc.message(lang)}", soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def progress_bar(total: int) -> Callable[[int, int], None]:
    bar = Progress(
        TextColumn("导入 / importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("import", total=total)
    bar.start()

    def tick(done: int, total_: int) -> None:
        bar.update(task, completed=done)
        if done >= total_:
            bar.stop()

    return tick


@app.command("import")
@friendly
def import_cmd(
    layer: Annotated[str, typer.Argument(help="streets|neighbourhoods|communities|buildings|zones|roads|survey")],
    path: Annotated[
        Path, typer.Argument(help="GeoJSON / GeoPackage / Shapefile(.shp/.zip) / FlatGeobuf / CSV / XLSX")
    ],
    crs: Annotated[str | None, typer.Option(help="坐标系：EPSG 代码、gcj02、bd09 / CRS override")] = None,
    encoding: Annotated[str | None, typer.Option(help="文本编码，如 GBK / text encoding")] = None,
    layer_name: Annotated[str | None, typer.Option("--layer", help="GeoPackage 图层名 / layer in the file")] = None,
    mapping: Annotated[Path | None, typer.Option(help="列名映射 YAML / header mapping")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="修复无效几何 / repair invalid geometry")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="整层替换 / replace the layer")] = False,
    lang: Lang = "zh",
) -> None:
    """导入图层（全部成功或全部不写入）/ Import a layer, all or nothing."""
    from geo.io.importers import import_layer, load_mapping
    from geo.stores import open_store

    store = open_store()
    report = import_layer(
        store,
        layer,
        path,
        crs=crs,
        encoding=encoding,
        source_layer=layer_name,
        mapping=load_mapping(mapping),
        fix=fix,
        replace=replace,
        progress=progress_bar if sys.stderr.isatty() else None,
    )
    console.print(report.summary(lang))
    for w in report.warnings:
        err_console.print(f"[yellow]注意 / note:[/] {w}")
    if report.overlaps is not None and len(report.overlaps):
        err_console.print(report.overlaps.head(20).to_string(index=False))


@app.command("export")
@friendly
def export_cmd(
    layer: Annotated[str, typer.Argument(help="streets|neighbourhoods|communities|buildings|zones|roads")],
    fmt: Annotated[str, typer.Option("--format", help="gpkg|geojson|fgb|csv|xlsx")] = "gpkg",
    output: Annotated[Path, typer.Option("--output", help="输出文件 / output file")] = Path("out/export.gpkg"),
    lang: Lang = "zh",
) -> None:
    """导出图层 / Export a layer."""
    from geo.io.exporters import export_layer
    from geo.stores import open_store

    n = export_layer(open_store(), layer, output, fmt=fmt, lang=lang)
    console.print(f"{n} → {output}")


@app.command("demo")
@friendly
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")] = Path("out"),
    profile: ProfileOpt = None,
    lang: Lang = "zh",
) -> None:
    """示例城市全流程（默认楚雄政策）/ Run the whole job on the sample city (embedded store; Chuxiong policy)."""
    from geo.demo import run_demo

    run_demo(out=out, lang=lang, profile_id=profile, console=console)


profiles_app = typer.Typer(help="政策配置 / policy profiles", invoke_without_command=True)
app.add_typer(profiles_app, name="profiles")


@profiles_app.callback()
@friendly
def profiles_list(ctx: typer.Context, lang: Lang = "zh") -> None:
    """列出政策配置 / List the policy profiles."""
    if ctx.invoked_subcommand is not None:
        return
    from geo.policy.profiles import list_profiles, load_profile

    for pid in list_profiles():
        p = load_profile(pid)
        console.print(f"{pid:16} {p.name.get(lang)}  {p.document}")


@profiles_app.command("show")
@friendly
def profiles_show(profile_id: Annotated[str, typer.Argument(help="ID")], lang: Lang = "zh") -> None:
    """显示一个政策配置及其条款来源 / Show one profile with the source of every rule."""
    from geo.policy.profiles import load_profile

    console.print(load_profile(profile_id).to_display(lang), highlight=False, markup=False)


def _profile(profile: str | None):  # noqa: ANN202 - returns geo.policy.profiles.Profile, imported lazily
    from geo.policy.profiles import load_profile

    return load_profile(profile or policy_settings().profile)


@app.command("candidates")
@friendly
def candidates_cmd(
    street: Annotated[str, typer.Option("--street", help="街道名称 / street name")],
    profile: ProfileOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="json|csv|xlsx|geojson")] = "json",
    output: Annotated[Path | None, typer.Option("--output", help="输出文件（默认打印 JSON）/ output file")] = None,
    lang: Lang = "zh",
) -> None:
    """街道候选清单（排序，含原因、评分、资金）/ Ranked candidate list of a street."""
    import json

    from geo.analysis import analyse, load_city, street_candidates
    from geo.reports.candidates import write_candidates
    from geo.stores import open_store

    prof = _profile(profile)
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


@app.command("plan")
@friendly
def plan_cmd(
    street: Annotated[list[str] | None, typer.Option("--street", help="街道（可多次）/ street (repeatable)")] = None,
    all_streets: Annotated[bool, typer.Option("--all", help="全部街道 / every street")] = False,
    profile: ProfileOpt = None,
    year_from: Annotated[int, typer.Option("--year-from", help="起始年度 / first year")] = 2026,
    budget_per_year: Annotated[int | None, typer.Option("--budget-per-year", help="年度预算（元）/ yuan")] = None,
    count_per_year: Annotated[int | None, typer.Option("--count-per-year", help="每年小区数上限 / per year")] = None,
    name: Annotated[str, typer.Option("--name", help="计划名称 / plan name")] = "plan",
    output: Annotated[Path | None, typer.Option("--output", help="输出目录 / output directory")] = None,
    lang: Lang = "zh",
) -> None:
    """分街道实施单元与分年度批次 / Implementation packages and yearly batches."""
    from geo.analysis import analyse, load_city, plan_streets, save_plan
    from geo.demo import year_table
    from geo.stores import open_store

    if not street and not all_streets:
        raise typer.BadParameter("give --street NAME or --all")
    prof = _profile(profile)
    store = open_store()
    analysis = analyse(load_city(store), profile=prof, lang=lang)
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
    }
    version = save_plan(store, name=name, profile=prof.id, params=params, plan=plan)
    console.print(year_table(plan.years, lang=lang).to_string(index=False))
    for w in plan.warnings:
        err_console.print(f"[yellow]注意 / note:[/] {w}")
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        year_table(plan.years, lang=lang).to_csv(output / "plan_years.csv", index=False, encoding="utf-8-sig")
        for key, frame in (("units", plan.units), ("packages", plan.packages)):
            list_col = "members" if key == "units" else "units"
            frame.assign(**{list_col: frame[list_col].map(lambda m: ",".join(map(str, m)))}).to_crs(4326).to_file(
                output / f"plan_{key}.geojson", driver="GeoJSON"
            )
        console.print(f"→ {output}")
    console.print(f"plan {name} v{version}")


def main() -> None:  # pragma: no cover - console entry point
    app()


stage_app = typer.Typer(help="改造进度 / project stages", no_args_is_help=True)
app.add_typer(stage_app, name="stage")


@stage_app.command("set")
@friendly
def stage_set(
    community_id: Annotated[str, typer.Argument(help="小区编号 / community id")],
    stage: Annotated[
        str, typer.Argument(help="survey|consent_1|annual_plan|design|consent_2|funds_ready|tender|...")
    ],
    date: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    households_agree: Annotated[int | None, typer.Option("--households-agree")] = None,
    households_total: Annotated[int | None, typer.Option("--households-total")] = None,
    area_agree_m2: Annotated[float | None, typer.Option("--area-agree-m2")] = None,
    area_total_m2: Annotated[float | None, typer.Option("--area-total-m2")] = None,
    publicity_start: Annotated[str | None, typer.Option("--publicity-start", help="YYYY-MM-DD")] = None,
    publicity_end: Annotated[str | None, typer.Option("--publicity-end", help="YYYY-MM-DD")] = None,
    funds_collected_yuan: Annotated[int | None, typer.Option("--funds-collected-yuan")] = None,
    funds_required_yuan: Annotated[int | None, typer.Option("--funds-required-yuan")] = None,
    corrects: Annotated[int | None, typer.Option("--corrects", help="更正的事件号 / event id corrected")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    actor: Annotated[str, typer.Option("--actor", help="记录人 / who records it")] = "cli",
    profile: ProfileOpt = None,
    lang: Lang = "zh",
) -> None:
    """记录一个阶段（不符合规则则拒绝并说明依据）/ Record a stage; refused with the rule and its source."""
    import datetime as dt

    from geo.errors import DataError
    from geo.progress.store import record_stage
    from geo.stores import open_store

    evidence = {
        k: v
        for k, v in {
            "households_agree": households_agree,
            "households_total": households_total,
            "area_agree_m2": area_agree_m2,
            "area_total_m2": area_total_m2,
            "publicity_start": publicity_start,
            "publicity_end": publicity_end,
            "funds_collected_yuan": funds_collected_yuan,
            "funds_required_yuan": funds_required_yuan,
        }.items()
        if v is not None
    }
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise DataError(f"日期格式应为 YYYY-MM-DD：{date}", f"date must be YYYY-MM-DD: {date}") from exc
    event = record_stage(
        open_store(),
        community_id=community_id,
        stage=stage,
        date=day,
        evidence=evidence,
        actor=actor,
        profile=_profile(profile),
        corrects=corrects,
        note=note,
    )
    console.print(f"{'recorded' if lang == 'en' else '已记录'}: #{event['event_id']} {community_id} {stage} {date}")


@stage_app.command("show")
@friendly
def stage_show(
    community_id: Annotated[str, typer.Argument(help="小区编号 / community id")],
    lang: Lang = "zh",
) -> None:
    """阶段记录（含更正）/ Stage history, corrections included."""
    from geo.progress.store import stage_history
    from geo.stores import open_store

    for e in stage_history(open_store(), community_id):
        flag = "" if e.get("effective", True) else (" (corrected)" if lang == "en" else "（已更正）")
        fix = f" corrects #{e['corrects']}" if e.get("corrects") else ""
        console.print(f"#{e['event_id']} {e['date']} {e['stage']}{fix}{flag} {e.get('evidence') or ''}")


@stage_app.command("import")
@friendly
def stage_import(
    path: Annotated[Path, typer.Argument(help="台账 XLSX / ledger")],
    actor: Annotated[str, typer.Option("--actor")] = "cli",
    profile: ProfileOpt = None,
) -> None:
    """从台账批量更新进度（全部成功或全部不写入）/ Bulk update from an XLSX ledger, all or nothing."""
    from geo.progress.store import import_ledger
    from geo.stores import open_store

    events = import_ledger(open_store(), path, profile=_profile(profile), actor=actor)
    console.print(f"{len(events)} events")


@app.command("map")
@friendly
def map_cmd(
    kind: Annotated[str, typer.Argument(help="plan|progress")],
    output: Annotated[Path, typer.Option("--output", help="FILE.html")],
    street: Annotated[str | None, typer.Option("--street")] = None,
    basemap: Annotated[str, typer.Option("--basemap", help="none|osm|tianditu|amap")] = "none",
    as_of: Annotated[str | None, typer.Option("--as-of", help="进度日期 YYYY-MM-DD（默认今天）")] = None,
    profile: ProfileOpt = None,
    lang: Lang = "zh",
) -> None:
    """领导用的规划图 / 进度图（离线 HTML）/ Offline HTML plan or progress map."""
    from geo.stores import open_store
    from maps.service import render_map

    html = render_map(
        open_store(), kind=kind, profile=_profile(profile), street=street, basemap=basemap, as_of=as_of, lang=lang
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    console.print(f"→ {output} ({len(html) / 1e6:.2f} MB)")


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers")] = 1,
) -> None:
    """启动 HTTP 服务（OGC API – Features、规划、进度、地图）/ Start the HTTP API."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


user_app = typer.Typer(help="用户与令牌 / users and tokens", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
@friendly
def user_add(
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    role: Annotated[str, typer.Option("--role", help="viewer|planner|admin")] = "viewer",
) -> None:
    """新建用户；令牌只显示一次（最后一行）/ Add a user; the token is printed once, alone on the last line."""
    from geo.auth import add_user
    from geo.stores import open_store

    token = add_user(open_store(), name, role)
    err_console.print(f"用户 {name}（{role}）已创建；令牌只显示这一次 / user created; the token is shown only once:")
    print(token)


@user_app.command("list")
@friendly
def user_list() -> None:
    """列出用户 / List users."""
    from geo.auth import list_users
    from geo.stores import open_store

    for u in list_users(open_store()):
        console.print(f"{u.name}\t{u.role}")
