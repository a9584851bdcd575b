"""``renewal import`` and ``renewal export``: layers in and out of the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import Lang, console, err_console, friendly, progress_bar, user_name


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("export")(export_cmd)


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
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="编号列（如 osm_id、OBJECTID）/ the key column if not id")
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="修复无效几何 / repair invalid geometry")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="整层替换 / replace the layer")] = False,
    update: Annotated[
        bool, typer.Option("--update", help="按编号更新：改动的要素升版本并记历史 / upsert by id, with history")
    ] = False,
    delete_missing: Annotated[
        bool,
        typer.Option("--delete-missing", help="与 --update 同用：删除文件中没有的要素 / delete rows not in file"),
    ] = False,
    actor: Annotated[str | None, typer.Option("--actor", help="操作人（默认当前系统用户）/ who imports")] = None,
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
        id_column=id_column,
        fix=fix,
        replace=replace,
        update=update,
        delete_missing=delete_missing,
        actor=actor or user_name(),
        lang=lang,
        progress=progress_bar if sys.stderr.isatty() else None,
    )
    console.print(report.summary(lang), soft_wrap=True)
    for w in report.warnings:
        err_console.print(f"[yellow]注意 / note:[/] {w}", soft_wrap=True)
    if report.overlaps is not None and len(report.overlaps):
        err_console.print(report.overlaps.head(20).to_string(index=False))


@friendly
def export_cmd(
    layer: Annotated[str, typer.Argument(help="streets|neighbourhoods|communities|buildings|zones|roads")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="gpkg|geojson|fgb|shp (zip, GBK)|csv|xlsx（默认按文件后缀）")
    ] = None,
    output: Annotated[Path, typer.Option("--output", help="输出文件 / output file")] = Path("out/export.gpkg"),
    lang: Lang = "zh",
) -> None:
    """导出图层 / Export a layer."""
    from geo.io.exporters import export_layer
    from geo.stores import open_store

    n = export_layer(open_store(), layer, output, fmt=fmt, lang=lang)
    console.print(f"{n} → {output}")
