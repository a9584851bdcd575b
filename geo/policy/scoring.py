"""Scoring: a 0–100 priority score per community, with the points of each factor shown.

Points of a factor = its weight (profile ``scoring.weights``, summing to 100) × a measure between 0 and 1:

- ``deficiencies``: remaining deficient items (on the menu, not already renovated), each worth its category's
  weight (basic > improvement > upgrade, or the city's own order), over the same sum for the whole menu;
- ``priority_items``: share of the profile's priority items that are deficient (水电路气 in Jingyuan, hazardous
  drainage and gas in Yulin);
- ``age``: (profile year − year built) / ``age_full_years``, capped at 1;
- ``households``: households / ``households_full``, capped at 1;
- ``support``: residents' support rate, support_households / households, capped at 1;
- ``funds``: residents' funds in hand (column ``funds_collected_yuan`` of the survey or the communities) over the
  residents' share of the cost (Lucheng starts whoever has 100 % first).

Each factor is rounded half up to 0.1 point and the score is the sum of the rounded parts (computed in integer
tenths), so the breakdown adds up to the score. Excluded communities score 0 with an empty breakdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.policy.eligibility import align_survey, effective_deficiencies
from geo.policy.funding import costs
from geo.policy.profiles import Profile


def _funds_collected(communities: pd.DataFrame, survey: pd.DataFrame | None) -> pd.Series:
    if "funds_collected_yuan" in communities:
        return pd.to_numeric(communities["funds_collected_yuan"], errors="coerce")
    if survey is not None and "funds_collected_yuan" in survey and "community_id" in survey:
        by_id = survey.drop_duplicates("community_id", keep="last").set_index("community_id")
        values = by_id["funds_collected_yuan"].reindex(communities["id"].astype(str)).to_numpy()
        return pd.to_numeric(pd.Series(values, index=communities.index), errors="coerce")
    return pd.Series(np.nan, index=communities.index)


def _measures(communities: pd.DataFrame, survey: pd.DataFrame | None, profile: Profile) -> pd.DataFrame:
    aligned = align_survey(communities, survey=survey)
    deficient = effective_deficiencies(aligned, profile=profile)
    cat_weight = profile.category_weights()
    primary = profile.content.primary()
    item_weight = pd.Series({i: cat_weight.get(c, 0) if c else 0 for i, c in primary.items()}, dtype=float)
    full = item_weight.sum()
    sc = profile.scoring
    year = pd.to_numeric(communities["year_built"], errors="coerce")
    households = pd.to_numeric(communities.get("households"), errors="coerce")
    out = pd.DataFrame(index=communities.index)
    out["deficiencies"] = deficient.astype(float).to_numpy() @ item_weight[deficient.columns].to_numpy() / full
    if sc.priority_items:
        out["priority_items"] = deficient[list(sc.priority_items)].sum(axis=1) / len(sc.priority_items)
    out["age"] = ((profile.year - year) / sc.age_full_years).clip(0, 1).fillna(0)
    out["households"] = (households / sc.households_full).clip(0, 1).fillna(0)
    rate = aligned["support_households"] / households.where(households > 0)
    out["support"] = rate.clip(0, 1).fillna(0)
    if sc.weights.get("funds", 0):
        due = costs(communities, survey=survey, profile=profile)["residents_yuan"].astype("Float64")
        collected = _funds_collected(communities, survey)
        ready = (collected / due.where(due > 0)).astype(float).clip(0, 1)
        ready = ready.where(due.fillna(1).to_numpy() > 0, collected.notna().astype(float))
        out["funds"] = ready.fillna(0)
    return out


def score(
    communities: pd.DataFrame,
    *,
    survey: pd.DataFrame | None,
    eligibility: pd.DataFrame,
    profile: Profile,
) -> pd.DataFrame:
    """Score every community (vectorised over the city).

    Returns a DataFrame indexed like ``communities`` with ``score`` (float, 0–100, one decimal) and
    ``score_breakdown`` (``{factor: points}``, points to 0.1, summing to ``score``).
    """
    measures = _measures(communities, survey, profile)
    weights = {f: w for f, w in profile.scoring.weights.items() if w and f in measures}
    excluded = (eligibility["status"].reindex(communities.index) == "excluded").to_numpy()
    tenths = pd.DataFrame(
        {f: np.floor(measures[f].to_numpy(dtype=float) * w * 10 + 0.5).astype(np.int64) for f, w in weights.items()},
        index=communities.index,
    )
    tenths[excluded] = 0
    total = tenths.sum(axis=1).to_numpy()
    breakdown = [
        {} if excluded[i] else {f: int(t) / 10 for f, t in zip(tenths.columns, row, strict=True)}
        for i, row in enumerate(tenths.to_numpy())
    ]
    return pd.DataFrame(
        {"score": total / 10, "score_breakdown": pd.Series(breakdown, index=communities.index, dtype=object)},
        index=communities.index,
    )


def rank(frame: pd.DataFrame) -> pd.Series:
    """Rank (1 = first) of the non-excluded rows of ``frame`` (columns ``status``, ``score``, ``households``,
    ``community_id``): score descending, then households descending, then id; excluded rows get none."""
    keys = pd.DataFrame(
        {
            "score": frame["score"],
            "_hh": pd.to_numeric(frame["households"], errors="coerce").fillna(-1),
            "_id": frame["community_id"].astype(str),
        },
        index=frame.index,
    )[(frame["status"] != "excluded").to_numpy()]
    order = keys.sort_values(["score", "_hh", "_id"], ascending=[False, False, True], kind="mergesort").index
    out = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    out.loc[order] = np.arange(1, len(order) + 1)
    return out
