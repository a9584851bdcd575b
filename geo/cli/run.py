"""``renewal run``: the whole job on a folder of raw layer files (and the summary ``renewal demo`` shares)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo.cli._common import Lang, ProfileOpt, console, err_console, friendly, resolve_profile

#: Steps of a run as the progress display names them.
STEP_WORDS = {
    "zh": {
        "analyse": "认定、评分、拆墙连片",
        "plan": "编制年度计划",
        "outputs": "写出名单、计划表和台账",
        "map:plan": "绘制规划图",
        "map:progress": "绘制进度图",
        "done": "完成",
        "import": "导入",
    },
    "en": {
        "analyse": "eligibility, scores, merged units",
        "plan": "yearly plan",
        "outputs": "lists, plan table, ledger",
        "map:plan": "plan map",
        "map:progress": "progress map",
        "done": "done",
        "import": "importing",
    },
}
#: Plan years shown in the summary before the table is cut (the full table is in plan_years.csv).
SUMMARY_YEARS = 12


def register(app: typer.Typer) -> None:
    app.command("run")(run_cmd)


@friendly
def run_cmd(
    folder: Annotated[
        Path, typer.Argument(help="图层文件所在文件夹（街道、社区、小区、楼栋、片区、道路、调查表）/ folder")
    ],
    profile: ProfileOpt = None,
    year_from: Annotated[int | None, typer.Option("--year-from", help="起始年度（默认今年）/ first year")] = None,
    budget_per_year: Annotated[
        int | None, typer.Option("--budget-per-year", min=1, help="年度预算（元）/ yearly budget in yuan")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")] = Path("out"),
    name: Annotated[str | None, typer.Option("--name", help="计划名称（默认文件夹名）/ plan name")] = None,
    crs: Annotated[str | None, typer.Option(help="坐标系（文件未声明时）/ CRS when a file has none")] = None,
    encoding: Annotated[str | None, typer.Option(help="文本编码，如 GBK / text encoding")] = None,
    lang: Lang = "zh",
) -> None:
    """一条命令完成全流程：导入图层、分析、保存计划、写出名单、计划表、台账和地图 / The whole job on a folder."""
    from geo.pipeline import run_city
    from geo.stores import open_store

    prof = resolve_profile(profile, lang=lang)
    store = open_store()
    try:
        with progress_display(lang) as progress:
            result = run_city(
                folder,
                store=store,
                profile=prof,
                out=out,
                year_from=year_from,
                budget_per_year=budget_per_year,
                plan_name=name,
                lang=lang,
                crs=crs,
                encoding=encoding,
                progress=progress,
            )
    finally:
        store.dispose()
    print_summary(console, result, lang=lang)


@contextmanager
def progress_display(lang: str) -> Iterator[callable]:  # type: ignore[valid-type]
    """A rich progress bar on stderr, fed by the pipeline's (step, done, total) calls; gone when finished."""
    words = STEP_WORDS["en" if lang == "en" else "zh"]
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("", total=None)

    def update(step: str, done: int, total: int) -> None:
        kind, _, layer = step.partition(":")
        if kind == "import":
            from geo.model import LAYERS

            label = f"{words['import']} {layer if lang == 'en' else LAYERS[layer].zh}"
        else:
            label = words.get(step, step)
        bar.update(task, description=label, completed=done, total=total)

    with bar:
        yield update


def _wan(yuan: float) -> str:
    return f"{yuan / 10_000:,.0f}"


def print_summary(out: Console, result, *, lang: str) -> None:  # noqa: ANN001 - geo.pipeline.RunResult, lazy import
    """What the run did, in one language, within 80 columns: data, policy, verdicts, budget, plan by year,
    warnings (summarised), and where the files are."""
    from geo.model import LAYERS
    from geo.reports.labels import STATUS

    en = lang == "en"
    k = 1 if en else 0
    sep = ", " if en else "、"
    counts = sep.join(
        f"{name if en else LAYERS[name].zh} {n:,}" for name, n in result.counts.items() if name in LAYERS
    )
    out.print(("Imported: " if en else "已导入：") + counts, soft_wrap=False)
    if result.files.ignored:
        names = sep.join(p.name for p in result.files.ignored)
        out.print(f"Not a layer file, ignored: {names}" if en else f"未识别为图层、已忽略的文件：{names}")
    out.print(("Store: " if en else "数据库：") + result.store_url)
    p = result.profile
    out.print(
        ("Policy: " if en else "政策：") + f"{p.name.get(lang)}（{p.document}，{p.id}）"
        if not en
        else f"Policy: {p.name.get(lang)} ({p.document}, {p.id})"
    )
    statuses = sep.join(
        f"{STATUS[s][k]} {result.statuses.get(s, 0):,}" for s in ("eligible", "conditional", "excluded")
    )
    out.print(("Communities: " if en else "认定结果：") + statuses)
    out.print(
        f"Units: {result.units:,}, of which {result.merged_units:,} merge neighbours"
        if en
        else f"改造单元 {result.units:,} 个，其中拆墙连片 {result.merged_units:,} 个"
    )
    years = result.plan_years
    budget = (
        (
            f"budget {_wan(result.budget_per_year)} ×10,000 yuan a year"
            if en
            else f"年度预算 {_wan(result.budget_per_year)} 万元"
        )
        if result.budget_per_year
        else ("no yearly budget set" if en else "未设年度预算")
    )
    span = f"{int(years['year'].min())}–{int(years['year'].max())}" if len(years) else "—"
    out.print(
        f"Plan {result.plan_name!r} v{result.plan_version}: from {result.year_from}, {budget}; {span}"
        if en
        else f"计划“{result.plan_name}”第{result.plan_version}版：{result.year_from}年起，{budget}；{span}年"
    )
    out.print(_year_table(years, lang=lang))
    for w in result.warnings[:5] + result.import_warnings[:5]:
        out.print(("[yellow]Note:[/] " if en else "[yellow]注意：[/]") + w)
    out.print(
        ("Outputs " if en else "输出文件") + f"（{result.seconds:.1f} 秒）："
        if not en
        else f"Outputs ({result.seconds:.1f} s):"
    )
    street_files = [q for q in result.outputs if q.parent.name == "candidates"]
    if street_files:
        folder = street_files[0].parent
        out.print(
            f"  {folder}/ (a list per street, XLSX and GeoJSON: {len(street_files)} files)"
            if en
            else f"  {folder}/（各街道候选名单 XLSX 与 GeoJSON，共 {len(street_files)} 个文件）"
        )
    for q in result.outputs:
        if q not in street_files:
            out.print(f"  {q}")
    out.print(
        ("Query this store with: " if en else "继续查询此数据库：")
        + f"RENEWAL_DATABASE_URL={result.store_url} renewal ...",
        soft_wrap=True,
    )


def _year_table(years, *, lang: str) -> Table:  # noqa: ANN001 - DataFrame
    en = lang == "en"
    headers = (
        ("Year", "Packages", "Comm.", "Households", "Cost ¥10k", "Subsidy ¥10k")
        if en
        else ("年度", "项目包", "小区", "户数", "总投资(万元)", "财政补助(万元)")
    )
    table = Table(box=box.SIMPLE_HEAD, title=None, pad_edge=False)
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i == 0 else "right", no_wrap=True)
    rows = list(years.itertuples(index=False))
    shown = rows if len(rows) <= SUMMARY_YEARS else rows[: SUMMARY_YEARS - 2] + [None] + rows[-1:]
    for r in shown:
        if r is None:
            hidden = len(rows) - (SUMMARY_YEARS - 1)
            table.add_row("…", f"({hidden} more years)" if en else f"（另 {hidden} 年）", "", "", "", "")
            continue
        table.add_row(
            str(r.year),
            f"{r.packages:,}",
            f"{r.communities:,}",
            f"{r.households:,}",
            _wan(r.cost_yuan),
            _wan(r.subsidy_yuan),
        )
    return table
