"""``python -m bench``: run every benchmark and regenerate ``bench/RESULTS.md`` with this machine's figures.

Each benchmark prints its own table (figures and ratios against a baseline measured in the same run); this runner
captures that output verbatim under a heading, with the machine's details at the top.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = [
    ("bench.bench_import", "Import: 100,000 building footprints into PostGIS (issue 2)"),
    ("bench.bench_merge", "Adjacency and 拆墙连片 merging at 1k / 10k / 50k communities (issue 4)"),
    ("bench.bench_maps", "Progress-map HTML size and time at 1k / 10k / 50k communities (issue 5)"),
    ("bench.bench_api", "API throughput against tipg and PostgreSQL alone (issue 6)"),
    ("bench.bench_items_sqlite", "Items pages on SQLite with 470,000 buildings against reading the layer (issue 11)"),
    ("bench.bench_run", "renewal run: raw files to every output at 2,000 and 50,000 compounds (issue 15)"),
    ("bench.load", "Mixed load on loopback: maps, bbox items, candidate lists, edits (issue 7)"),
    ("bench.faults", "PostgreSQL restarted under load (issue 7)"),
]
SCALING = Path(__file__).with_name("SCALING.md")
RESULTS = Path(__file__).with_name("RESULTS.md")


def _cmd(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def _proc_field(path: str, key: str) -> str:
    p = Path(path)
    if not p.exists():
        return ""
    return next((ln.split(":", 1)[1].strip() for ln in p.read_text().splitlines() if ln.startswith(key)), "")


def _machine() -> str:
    import geopandas
    import shapely

    psql = ("psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc")
    return "\n".join(
        [
            f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
            f"- CPU: {_proc_field('/proc/cpuinfo', 'model name')} × {os.cpu_count()} cores; "
            f"memory {_proc_field('/proc/meminfo', 'MemTotal')}",
            f"- OS: {platform.platform()}",
            f"- Python {platform.python_version()}, shapely {shapely.__version__}, geopandas {geopandas.__version__}",
            f"- PostgreSQL: {_cmd(*psql, 'SELECT version()')}",
            f"- PostGIS: {_cmd(*psql[:-1], '-d', 'renewal_bench', '-tAc', 'SELECT postgis_lib_version()')}",
        ]
    )


def main(only: list[str]) -> None:
    sections = [
        "# Benchmark results\n\nRegenerate with `python -m bench` (or `python -m bench MODULE ...`).\n\n"
        f"## Machine\n\n{_machine()}\n"
    ]
    for module, title in BENCHMARKS:
        if only and module.split(".")[-1] not in only and module not in only:
            continue
        print(f"== {title}", flush=True)
        out = io.StringIO()
        started = time.perf_counter()
        try:
            mod = importlib.import_module(module)
            argv, sys.argv = sys.argv, [module]  # each benchmark's own defaults
            try:
                with contextlib.redirect_stdout(out):
                    (mod.main if hasattr(mod, "main") else mod.run)()
            finally:
                sys.argv = argv
            status = ""
        except ModuleNotFoundError as exc:
            status = f"not run: {exc}"
        except SystemExit as exc:  # a benchmark that checks a verdict exits non-zero on failure: keep its output
            status = f"exited with {exc.code}"
        print(out.getvalue(), flush=True)
        body = "\n".join(part for part in (out.getvalue().strip(), status) if part)
        sections.append(
            f"## {title}\n\n`python -m {module}` ({time.perf_counter() - started:.0f} s)\n\n```\n{body}\n```\n"
        )
    sections.append(SCALING.read_text(encoding="utf-8"))
    RESULTS.write_text("\n".join(sections), encoding="utf-8")
    print(f"→ {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
