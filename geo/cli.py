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

app = typer.Typer(help="城镇老旧小区改造规划工具 / Old-residential-community renovation planning.", no_args_is_help=True)
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
    bar = Progress(TextColumn("导入 / importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err_console, transient=True)
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
    path: Annotated[Path, typer.Argument(help="GeoJSON / GeoPackage / Shapefile(.shp/.zip) / FlatGeobuf / CSV / XLSX")],
    crs: Annotated[str | None, typer.Option(help="坐标系：EPSG 代码、gcj02、bd09 / CRS override")] = None,
    encoding: Annotated[str | None, typer.Option(help="文本编码，如 GBK / text encoding")] = None,
    layer_name: Annotated[str | None, typer.Option("--layer", help="GeoPackage 图层名 / layer in the file")] = None,
    mapping: Annotated[Path | None, typer.Option(help="列名映射 YAML / header mapping")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="修复无效几何 / repair invalid geometry")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="整层替换 / replace the layer")] = False,
    lang: Lang = "zh",
) -> None:
    """导入图层（全部成功或全部不写入）/ Import a layer, all or nothing."""
    from geo.importers import import_layer, load_mapping
    from geo.stores import open_store

    store = open_store()
    report = import_layer(
        store, layer, path, crs=crs, encoding=encoding, source_layer=layer_name, mapping=load_mapping(mapping),
        fix=fix, replace=replace, progress=progress_bar if sys.stderr.isatty() else None,
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
    from geo.exporters import export_layer
    from geo.stores import open_store

    n = export_layer(open_store(), layer, output, fmt=fmt, lang=lang)
    console.print(f"{n} → {output}")


@app.command("demo")
@friendly
def demo_cmd(
    out: Annotated[Path, typer.Option("--out", help="输出目录 / output directory")] = Path("out"),
    lang: Lang = "zh",
) -> None:
    """示例城市全流程 / Run the whole job on the sample city (embedded store)."""
    from geo.demo import run_demo

    run_demo(out=out, lang=lang, console=console)


def main() -> None:  # pragma: no cover - console entry point
    app()
