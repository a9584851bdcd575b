"""``renewal run``: the whole job on a folder of raw layer files (and the summary ``renewal demo`` shares)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from geo.cli._common import Lang, ProfileOpt, console, err_console, friendly, resolve_profile

if TYPE_CHECKING:
    import pandas as pd

    from geo.pipeline import RunResult

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
def progress_display(lang: str) -> Iterator[Callable[[str, int, int], None]]:
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


def print_summary(out: Console, result: RunResult, *, lang: str) -> None:
    """What the run did, in one language and within 80 columns: the data, the policy, the verdicts, the budget
    and the plan by year, the plan's warnings (each said once) and where the files are. Paths are printed whole
    (never folded), file names relative to the output folder."""
    from geo.model import LAYERS
    from geo.reports.labels import STATUS

    en = lang == "en"
    k = 1 if en else 0
    sep = ", " if en else "、"

    def say(zh: str, english: str, *, path: bool = False) -> None:
        out.print(english if en else zh, soft_wrap=path, highlight=False)

    counts = sep.join(f"{n if en else LAYERS[n].zh} {c:,}" for n, c in result.counts.items() if n in LAYERS)
    say(f"已导入：{counts}", f"Imported: {counts}")
    if result.files.ignored:
        names = sep.join(p.name for p in result.files.ignored)
        say(f"未识别为图层、已忽略的文件：{names}", f"Not layer files, ignored: {names}")
    say(f"数据库：{result.store_url}", f"Store: {result.store_url}", path=True)
    p = result.profile
    say(f"政策：{p.name.zh}（{p.document}，{p.id}）", f"Policy: {p.name.en} ({p.document}, {p.id})")
    statuses = sep.join(f"{STATUS[s][k]} {result.statuses.get(s, 0):,}" for s in STATUS)
    say(f"认定结果：{statuses}", f"Communities: {statuses}")
    say(
        f"改造单元 {result.units:,} 个，其中拆墙连片 {result.merged_units:,} 个",
        f"Renovation units: {result.units:,}, of which {result.merged_units:,} join neighbours",
    )
    years = result.plan_years
    span = f"{int(years['year'].min())}–{int(years['year'].max())}" if len(years) else "—"
    budget = result.budget_per_year
    say(
        f"计划“{result.plan_name}”第{result.plan_version}版：{result.year_from}年起，"
        + (f"年度预算 {_wan(budget)} 万元" if budget else "未设年度预算")
        + f"；{span}年",
        f"Plan {result.plan_name!r} version {result.plan_version}: from {result.year_from}, "
        + (f"yearly budget {budget:,} yuan" if budget else "no yearly budget")
        + f"; {span}",
    )
    out.print(_year_table(years, lang=lang))
    for w in [*result.warnings, *result.import_warnings]:
        out.print(("[yellow]Note:[/] " if en else "[yellow]注意：[/]") + w, highlight=False)
    say(
        f"输出文件（用时 {result.seconds:.1f} 秒）：{result.out}/",
        f"Files ({result.seconds:.1f} s): {result.out}/",
        path=True,
    )
    street_files = [q for q in result.outputs if q.parent.name == "candidates"]
    if street_files:
        say(
            f"  candidates/ 各街道候选名单（XLSX、GeoJSON，共 {len(street_files)} 个）",
            f"  candidates/ a list per street (XLSX, GeoJSON: {len(street_files)} files)",
        )
    for q in result.outputs:
        if q not in street_files:
            shown = q.relative_to(result.out) if q.is_relative_to(result.out) else q
            say(f"  {shown}", f"  {shown}", path=True)
    say(
        f"继续查询此数据库：RENEWAL_DATABASE_URL={result.store_url} renewal ...",
        f"Query this store with: RENEWAL_DATABASE_URL={result.store_url} renewal ...",
        path=True,
    )


def _year_table(years: pd.DataFrame, *, lang: str) -> Table:
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
