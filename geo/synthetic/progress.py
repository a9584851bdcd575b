"""A believable year of renovation progress on a planned city, for the demo's progress map.

Each compound the plan puts in its first year starts with a survey early that year and moves stage by stage,
a few weeks apart, to a stage drawn at random (most are under construction or completed by autumn, a few are
still preparing); compounds of the second year have begun their survey and first consent in the autumn. Every
event goes through :func:`geo.progress.store.record_stage`, so each one meets the profile's rules (consent
thresholds, publicity on working days, resident funds); a compound that cannot meet one (an owners' committee the
profile requires but the compound lacks) simply stops there, as it would in life.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd

from geo.errors import ConflictError
from geo.policy.profiles import Profile
from geo.progress.store import record_stage
from geo.space.batches import Plan
from geo.stores import Store

#: How far first-year compounds get: shares of "the stage before construction", construction, and each later one.
_REACH = (0.25, 0.35, 0.25, 0.15)
_AGREE = 0.85


def _evidence(profile: Profile, code: str, date: dt.date, row: pd.Series) -> dict[str, Any]:
    spec = profile.stage(code)
    evidence: dict[str, Any] = {}
    households = int(row["households"]) if pd.notna(row["households"]) and row["households"] > 0 else 30
    if spec.needs_consent:  # type: ignore[union-attr]
        evidence |= {"households_agree": math.ceil(households * _AGREE), "households_total": households}
        if profile.consent.area_threshold is not None:
            area = int(row["floor_area_m2"]) if pd.notna(row["floor_area_m2"]) else households * 70
            evidence |= {"area_agree_m2": math.ceil(area * _AGREE), "area_total_m2": area}
    if spec.needs_publicity:  # type: ignore[union-attr]
        evidence |= {"publicity_start": date - dt.timedelta(days=25), "publicity_end": date - dt.timedelta(days=1)}
    funds = next((s for s in profile.stages if s.needs_funds), None)
    codes = [s.code for s in profile.stages]
    if funds is not None and codes.index(code) >= codes.index(funds.code) and spec.needs_funds:  # type: ignore[union-attr]
        required = int(row["residents_yuan"]) if pd.notna(row["residents_yuan"]) else 0
        evidence |= {"funds_collected_yuan": required, "funds_required_yuan": required}
    return evidence


def record_sample_progress(
    store: Store,
    *,
    profile: Profile,
    plan: Plan,
    candidates: pd.DataFrame,
    as_of: dt.date,
    seed: int = 2026,
    actor: str = "demo",
) -> int:
    """Record sample stage events for the plan's first two years up to ``as_of``; returns how many were recorded.

    ``candidates`` gives each compound's households, floor area and resident funds (``geo.analysis.analyse``).
    """
    if plan.units.empty or plan.units["year"].dropna().empty:
        return 0
    rng = np.random.default_rng(seed)
    codes = [s.code for s in profile.stages]
    build = codes.index("construction") if "construction" in codes else len(codes) - 1
    members = plan.units[["members", "year"]].explode("members").dropna(subset=["members", "year"])
    first = int(members["year"].min())
    sizes = candidates.set_index("community_id")
    recorded = 0
    for community_id, year in members.sort_values(["year", "members"]).itertuples(index=False):
        if community_id not in sizes.index or int(year) > first + 1:
            continue
        if int(year) == first:
            start = dt.date(first, 1, 5) + dt.timedelta(days=int(rng.integers(0, 60)))
            band = rng.choice(len(_REACH), p=_REACH)
            last = min(len(codes) - 1, build - 1 + int(band) + (int(rng.integers(0, 2)) if band == 3 else 0))
        else:
            start = dt.date(first, 9, 1) + dt.timedelta(days=int(rng.integers(0, 30)))
            last = min(build - 1, int(rng.integers(0, 2)))
        date = start
        for code in codes[: last + 1]:
            if date > as_of:
                break
            try:
                record_stage(
                    store,
                    community_id=community_id,
                    stage=code,
                    date=date,
                    evidence=_evidence(profile, code, date, sizes.loc[community_id]),
                    actor=actor,
                    profile=profile,
                )
            except ConflictError:
                break
            recorded += 1
            date += dt.timedelta(days=int(rng.integers(14, 40)))
    return recorded
