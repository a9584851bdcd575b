"""``renewal run`` from a folder of raw files to every output, against the same job as separate commands.

Run as ``python -m bench.bench_run [--sizes 2000 50000]``. For each size a city is generated
(:func:`geo.synthetic.city.make_city`) and written as a planner receives it (街道.gpkg, 社区.gpkg, 小区.gpkg,
楼栋.gpkg, 片区.gpkg, 道路.gpkg, 调查表.csv). Two measurements, each in fresh processes on a fresh embedded store
(SQLite, the default), wall-clock time and peak resident memory (the largest process, from ``wait4``):

- ``renewal run``: ``renewal run DIR --profile chuxiong-2020 --year-from 2026 --budget-per-year 60000000`` —
  import, analyse, plan, save, candidate lists of every street, plan table, ledger, both maps;
- baseline ``separate commands``: the steps a planner ran before it (issue 15): ``renewal import`` for each of the
  7 layers, ``renewal candidates --format xlsx`` for up to 4 streets, ``renewal plan --all --output``, ``renewal
  map plan``, ``renewal map progress``. It writes less (4 streets' lists, no ledger) and each command reads the
  store and analyses the city again.

Aims (issue 15): a 2,000-compound city under 10 s, a 50,000-compound city under 2 minutes, on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SIZES = (2_000, 50_000)
SEED = 20200307
WORK = Path(__file__).with_name("_work")
AIMS = {2_000: 10.0, 50_000: 120.0}
FILES = {
    "streets": "街道",
    "neighbourhoods": "社区",
    "communities": "小区",
    "buildings": "楼栋",
    "zones": "片区",
    "roads": "道路",
}
#: The console script installed beside this interpreter (what a user types).
RENEWAL = str(Path(sys.executable).with_name("renewal"))
PLAN = ["--profile", "chuxiong-2020", "--year-from", "2026", "--budget-per-year", "60000000"]


def _city_folder(n: int) -> Path:
    """The generated city as raw files with Chinese names (made once per size and kept in bench/_work)."""
    folder = WORK / f"city_{n}"
    done = folder / ".complete"
    if done.exists():
        return folder
    from geo.synthetic.city import make_city

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    city = make_city(n_communities=n, seed=SEED)
    for layer, name in FILES.items():
        city[layer].to_file(folder / f"{name}.gpkg", driver="GPKG")
    city["survey"].to_csv(folder / "调查表.csv", index=False, encoding="utf-8-sig")
    done.write_text("")
    return folder


def _renewal(*args: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one ``renewal`` command in a process of its own; fails loudly."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [RENEWAL, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"renewal {' '.join(args)} failed:\n{err[-2000:]}")
    return seconds, usage.ru_maxrss / 1024.0


def _env(db: Path) -> dict[str, str]:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return {**os.environ, "RENEWAL_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "80"}


def _run(folder: Path, work: Path) -> dict[str, float]:
    seconds, rss = _renewal("run", str(folder), *PLAN, "--out", str(work / "run_out"), env=_env(work / "run.sqlite"))
    return {"seconds": seconds, "peak_rss_mib": rss, "commands": 1}


def _separate(folder: Path, work: Path) -> dict[str, float]:
    env = _env(work / "separate.sqlite")
    out = work / "separate_out"
    commands: list[list[str]] = [["import", layer, str(folder / f"{name}.gpkg")] for layer, name in FILES.items()]
    commands.append(["import", "survey", str(folder / "调查表.csv")])
    total, peak = 0.0, 0.0
    for args in commands:
        s, r = _renewal(*args, env=env)
        total, peak = total + s, max(peak, r)
    import geopandas as gpd

    streets = gpd.read_file(folder / "街道.gpkg")["name"].tolist()[:4]
    later = [
        *(["candidates", "--street", s, "--profile", "chuxiong-2020", "--format", "xlsx", "--output",
           str(out / f"{s}.xlsx")] for s in streets),
        ["plan", "--all", *PLAN, "--output", str(out / "plan")],
        ["map", "plan", "--profile", "chuxiong-2020", "--output", str(out / "plan.html")],
        ["map", "progress", "--profile", "chuxiong-2020", "--output", str(out / "progress.html")],
    ]  # fmt: skip
    for args in later:
        s, r = _renewal(*args, env=env)
        total, peak = total + s, max(peak, r)
    return {"seconds": total, "peak_rss_mib": peak, "commands": len(commands) + len(later)}


def run(*, sizes: tuple[int, ...] = SIZES) -> dict:
    """Measure every size, print the table and return ``{n: {"run": {...}, "separate": {...}}}``."""
    results: dict[int, dict[str, dict[str, float]]] = {}
    load_before = os.getloadavg()[0]
    for n in sizes:
        folder = _city_folder(n)
        work = WORK / f"run_{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        results[n] = {"run": _run(folder, work), "separate": _separate(folder, work)}
        shutil.rmtree(work, ignore_errors=True)
    _print(results)
    print(
        f"load average (1 min) before / after: {load_before:.1f} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return results


def _print(results: dict[int, dict[str, dict[str, float]]]) -> None:
    print("renewal run (one command, every output) vs the same job as separate commands; SQLite store")
    print(f"{'communities':>11} | {'case':<26} | {'commands':>8} | {'seconds':>8} | {'peak RSS MiB':>12} | aim")
    print("-" * 90)
    for n, cases in results.items():
        for name, label in (("run", "renewal run"), ("separate", "separate commands (base)")):
            r = cases[name]
            aim = ""
            if name == "run" and n in AIMS:
                aim = f"< {AIMS[n]:.0f} s: {'met' if r['seconds'] < AIMS[n] else 'MISSED'}"
            print(
                f"{n:>11,} | {label:<26} | {int(r['commands']):>8} | {r['seconds']:>8.1f} | "
                f"{r['peak_rss_mib']:>12.0f} | {aim}"
            )
        ratio = cases["separate"]["seconds"] / cases["run"]["seconds"]
        print(f"{'':>11} | run is {ratio:.1f}x the speed of the separate commands (which write less)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    run(sizes=tuple(args.sizes))


if __name__ == "__main__":
    main()
