"""``renewal demo``: ``renewal run`` on the synthetic sample city, in an embedded store of its own.

The demo store is ``var/demo.sqlite``, made anew on every run (so re-running is safe and never touches the
planner's own store at ``var/renewal.sqlite``). Outputs go to ``--out`` (default ``./out``). The sample city stands
in Chuxiong (楚雄市), so its own policy applies unless another profile is asked for, with a yearly budget of
60 million yuan from 2026.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from geo.pipeline import Progress, RunResult, run_city
from geo.policy.profiles import load_profile
from geo.stores import open_store
from geo.synthetic.progress import record_sample_progress

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "data" / "boundaries"
DEMO_STORE = Path("var") / "demo.sqlite"
SAMPLE_PROFILE = "chuxiong-2020"
DEMO_YEAR_FROM = 2026
DEMO_BUDGET_PER_YEAR = 60_000_000
#: The sample city's layers, in import order (benchmarks import them one by one).
IMPORT_ORDER = ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads")


def run_demo(
    *,
    out: Path = Path("out"),
    lang: str = "zh",
    profile_id: str | None = None,
    store_path: Path = DEMO_STORE,
    year_from: int = DEMO_YEAR_FROM,
    budget_per_year: int = DEMO_BUDGET_PER_YEAR,
    progress: Progress | None = None,
) -> RunResult:
    """Run the whole job on the sample city in a fresh demo store; returns what it did and wrote."""
    profile = load_profile(profile_id or os.environ.get("RENEWAL_PROFILE") or SAMPLE_PROFILE)
    store_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{store_path}")
    try:
        return run_city(
            SAMPLE_DIR,
            store=store,
            profile=profile,
            out=out,
            year_from=year_from,
            budget_per_year=budget_per_year,
            plan_name="demo",
            lang=lang,
            progress=progress,
            after_plan=lambda store, plan, analysis: record_sample_progress(
                store, profile=profile, plan=plan, candidates=analysis.candidates, as_of=dt.date.today()
            ),
        )
    finally:
        store.dispose()
