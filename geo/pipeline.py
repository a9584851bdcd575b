"""``renewal run``: the whole job on a folder of raw layer files, in one call.

Finds the layer files by name (English layer names or the usual Chinese ones: 街道, 社区, 小区, 楼栋, 片区, 道路,
调查表; any supported format), imports them into the store in one transaction (a failure in any layer leaves the
store as it was), runs every analysis, saves the plan, writes every file for people (:mod:`geo.outputs`) and the
plan and progress maps. ``renewal demo`` is this on the sample city.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from geo.analysis import Analysis, analyse, load_city, plan_streets, save_plan
from geo.errors import DataError, NotFoundError
from geo.io._readers import TABLE_SUFFIXES, VECTOR_SUFFIXES
from geo.io.importers import ImportReport, import_layer
from geo.model import LAYERS
from geo.outputs import context, write_outputs
from geo.policy.profiles import Profile
from geo.space.batches import Plan
from geo.stores import Store

#: Layers in the order they are imported (streets first, so communities are located in them; survey last).
IMPORT_ORDER = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads", "survey")
#: File names (without extension, any case) taken for each layer.
LAYER_FILE_NAMES: dict[str, tuple[str, ...]] = {
    name: (name, LAYERS[name].zh) + (("neighborhoods",) if name == "neighbourhoods" else ()) for name in IMPORT_ORDER
}
#: Files that travel with a Shapefile and are read with it.
SIDECARS = frozenset({".dbf", ".shx", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd", ".xml", ".aux"})

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class LayerFiles:
    """The layer files of a folder, and the files it holds that are not layers."""

    found: dict[str, Path]
    ignored: list[Path] = field(default_factory=list)


def find_layer_files(folder: Path) -> LayerFiles:
    """Which file holds which layer, by file name (``小区.shp``, ``communities.gpkg``, ``调查表.xlsx`` ...).

    Raises
    ------
    NotFoundError
        The folder does not exist.
    DataError
        Two files name the same layer, or there is no communities file.
    """
    if not folder.is_dir():
        raise NotFoundError(f"找不到文件夹：{folder}", f"no such folder: {folder}")
    by_name = {n.lower(): layer for layer, names in LAYER_FILE_NAMES.items() for n in names}
    found: dict[str, list[Path]] = {}
    ignored: list[Path] = []
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if not path.is_file() or path.name.startswith((".", "~$")) or suffix in SIDECARS:
            continue
        layer = by_name.get(path.stem.lower())
        allowed = TABLE_SUFFIXES if layer == "survey" else VECTOR_SUFFIXES
        if layer is None or suffix not in allowed:
            ignored.append(path)
            continue
        found.setdefault(layer, []).append(path)
    twice = {layer: paths for layer, paths in found.items() if len(paths) > 1}
    if twice:
        zh = "；".join(f"{LAYERS[k].zh}：{'、'.join(p.name for p in v)}" for k, v in twice.items())
        en = "; ".join(f"{k}: {', '.join(p.name for p in v)}" for k, v in twice.items())
        raise DataError(
            f"{folder} 中同一图层有多个文件（{zh}），请只保留一个", f"{folder} has several files for a layer ({en})"
        )
    if "communities" not in found:
        names = "、".join(f"{n}.shp/.gpkg/.geojson" for n in LAYER_FILE_NAMES["communities"])
        raise DataError(
            f"{folder} 中没有小区图层文件（文件名应为 {names} 等）",
            f"{folder} has no communities file (name it {', '.join(LAYER_FILE_NAMES['communities'])} + .shp, "
            ".gpkg, .geojson, ...)",
        )
    return LayerFiles({layer: paths[0] for layer, paths in found.items()}, ignored)


class _OneTransaction:
    """The store seen through one open transaction: each import's ``begin()`` is a savepoint inside it, so the
    layers of a folder are written together or not at all (the importer is used unchanged)."""

    def __init__(self, store: Store, conn: Connection) -> None:
        self._store = store
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self._conn.begin_nested():
            yield self._conn


def import_folder(
    store: Store,
    files: Mapping[str, Path],
    *,
    crs: str | None = None,
    encoding: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, ImportReport]:
    """Import ``files`` (layer → path), each replacing its layer, all in one transaction.

    Layers without a file are left as they are. Any error (bad file, bad rows) rolls back every layer.
    """
    reports: dict[str, ImportReport] = {}
    with store.begin() as conn:
        shared: Any = _OneTransaction(store, conn)
        for layer in IMPORT_ORDER:
            if layer not in files:
                continue
            if progress is not None:
                progress(layer)
            try:
                reports[layer] = import_layer(shared, layer, files[layer], crs=crs, encoding=encoding, replace=True)
            except DataError as exc:
                name = files[layer].name
                raise type(exc)(
                    f"{name}（{LAYERS[layer].zh}）：{exc.zh}；所有图层均未导入",
                    f"{name} ({layer}): {exc.en}; no layer was imported",
                    rows=exc.rows,
                ) from exc
    return reports


@dataclass
class RunResult:
    """What a run did, for its summary and for tests."""

    store_url: str
    profile: Profile
    files: LayerFiles
    counts: dict[str, int]
    statuses: dict[str, int]
    units: int
    merged_units: int
    plan_name: str
    plan_version: int
    plan_years: pd.DataFrame
    year_from: int
    budget_per_year: int | None
    warnings: list[str]
    import_warnings: list[str]
    out: Path
    outputs: list[Path]
    seconds: float


def run_city(
    folder: Path,
    *,
    store: Store,
    profile: Profile,
    out: Path,
    year_from: int | None = None,
    budget_per_year: int | None = None,
    plan_name: str | None = None,
    lang: str = "zh",
    crs: str | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    after_plan: Callable[[Store, Plan, Analysis], None] | None = None,
) -> RunResult:
    """Import the layer files of ``folder``, analyse, plan, save the plan and write every output into ``out``.

    Parameters
    ----------
    store
        The store in force; the folder's layers replace its layers of the same name (others are kept).
    year_from
        First plan year (default: this year).
    budget_per_year
        Yearly budget in yuan (None: no budget limit; the profile's yearly count targets still apply).
    plan_name
        Name the plan is saved under (default: the folder's name); each run saves a new version.
    progress
        Called with (what is being done, steps done, steps in all) before each step.
    after_plan
        Called with the store, the saved plan and the analysis before the outputs are written (the demo records
        its sample stage events here, so the ledger and the progress map show them).
    """
    from maps._assets import missing_tools_note  # the map pages sit above the library; imported where used
    from maps.service import render_map

    started = time.perf_counter()
    files = find_layer_files(folder)
    year_from = year_from or dt.date.today().year
    layer_steps = [layer for layer in IMPORT_ORDER if layer in files.found]
    steps = [*(f"import:{layer}" for layer in layer_steps), "analyse", "plan", "outputs", "map:plan", "map:progress"]
    done = 0

    def step(name: str) -> None:
        nonlocal done
        if progress is not None:
            progress(name, done, len(steps))
        done += 1

    reports = import_folder(store, files.found, crs=crs, encoding=encoding, progress=lambda la: step(f"import:{la}"))
    step("analyse")
    city = load_city(store)
    analysis = analyse(city, profile=profile, lang=lang)
    step("plan")
    plan = plan_streets(analysis, streets=None, year_from=year_from, budget_per_year=budget_per_year)
    name = plan_name or folder.resolve().name
    params = {"streets": "all", "year_from": year_from, "budget_per_year": budget_per_year, "source": str(folder)}
    version = save_plan(store, name=name, profile=profile.id, params=params, plan=plan)
    if after_plan is not None:
        after_plan(store, plan, analysis)
    step("outputs")
    ctx = context(city, profile, lang=lang, data_as_of=dt.date.today())
    outputs = write_outputs(out, store=store, city=city, analysis=analysis, plan=plan, lang=lang, context=ctx)
    for kind in ("plan", "progress"):
        step(f"map:{kind}")
        html = render_map(
            store,
            kind=kind,
            profile=profile,
            lang=lang,
            city=city,
            analysis=analysis,
        )
        path = out / f"{kind}_map.html"
        path.write_text(html, encoding="utf-8")
        outputs.append(path)
    tools_note = missing_tools_note(lang)
    if progress is not None:
        progress("done", len(steps), len(steps))
    return RunResult(
        store_url=make_url(str(store.engine.url)).render_as_string(hide_password=True),
        profile=profile,
        files=files,
        counts=store.counts(),
        statuses=analysis.candidates["status"].value_counts().to_dict(),
        units=len(analysis.units),
        merged_units=int((analysis.units["n_members"] > 1).sum()),
        plan_name=name,
        plan_version=version,
        plan_years=plan.years,
        year_from=year_from,
        budget_per_year=budget_per_year,
        warnings=[*plan.warnings, *([tools_note] if tools_note else [])],
        import_warnings=[w for r in reports.values() for w in r.warnings],
        out=out,
        outputs=outputs,
        seconds=time.perf_counter() - started,
    )
