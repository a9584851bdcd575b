"""Funding: the cost of each community's remaining deficiencies and how it splits between residents and subsidy.

All money is integer yuan computed in integers: floor area is taken to 0.01 m² (half up), each item's cost is
exact in fen, each category's cost is rounded half up to the yuan once, and the subsidy is rounded half up to the
yuan once from its exact rational value; the residents' share is the remainder, so
``residents_yuan + subsidy_yuan == cost_yuan`` always holds. Unit costs come from a cost-model file
(``geo/policy/costs/default.yaml`` unless another is given); the split follows the profile's funding rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, create_model, model_validator

from geo.errors import DataError
from geo.model import DEFICIENCY_ITEMS
from geo.policy.eligibility import align_survey, effective_deficiencies
from geo.policy.profiles import Profile

COST_DIR = Path(__file__).parent / "costs"


class UnitCost(BaseModel):
    """One item's unit cost in yuan: per m² of floor area, per household or a lump sum per community."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    per_m2: int | None = None
    per_household: int | None = None
    lump_sum: int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> UnitCost:
        if sum(v is not None for v in (self.per_m2, self.per_household, self.lump_sum)) != 1:
            raise ValueError("give exactly one of per_m2, per_household, lump_sum")
        return self


ItemCosts = create_model(
    "ItemCosts",
    __config__=ConfigDict(frozen=True, extra="forbid"),
    **{code: (UnitCost, ...) for code in DEFICIENCY_ITEMS},
)


class CostModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    source: str
    items: ItemCosts  # type: ignore[valid-type]

    def unit(self, item: str) -> UnitCost:
        return getattr(self.items, item)


def load_cost_model(path: str | Path | None = None) -> CostModel:
    """Read a cost-model YAML file (default ``geo/policy/costs/default.yaml``); errors name the file and the field."""
    path = Path(path) if path is not None else COST_DIR / "default.yaml"
    try:
        return CostModel.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise DataError(
            f"费用模型文件 {path.name} 有误：{detail}", f"Cost model file {path.name} is invalid: {detail}"
        ) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"无法读取费用模型文件 {path}：{exc}", f"Cannot read cost model file {path}: {exc}") from exc


def _half_up(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """numerator / denominator rounded half up (non-negative integers, exact)."""
    return (2 * numerator + denominator) // (2 * denominator)


def costs(
    communities: pd.DataFrame,
    *,
    survey: pd.DataFrame | None,
    profile: Profile,
    cost_model: CostModel | None = None,
) -> pd.DataFrame:
    """Cost and split per community, indexed like ``communities``.

    Columns: ``cost_yuan``, ``residents_yuan``, ``subsidy_yuan`` (nullable Int64; missing when floor area or
    households are unknown) and ``cost_breakdown`` (``{category: yuan}`` of the profile's content categories,
    summing to ``cost_yuan``). Only deficient items on the profile's menu, not already renovated and not excluded
    by the funding rule (e.g. Lucheng's separately funded elevators) are costed.
    """
    model = cost_model or load_cost_model()
    funding = profile.funding
    deficient = effective_deficiencies(align_survey(communities, survey=survey), profile=profile)
    area_raw = pd.to_numeric(communities.get("floor_area_m2"), errors="coerce")
    hh_raw = pd.to_numeric(communities.get("households"), errors="coerce")
    known = (area_raw.notna() & hh_raw.notna()).to_numpy()
    area_centi = np.floor(area_raw.fillna(0).to_numpy(dtype=float) * 100 + 0.5).astype(np.int64)
    households = hh_raw.fillna(0).round().to_numpy(dtype=np.int64)

    primary = profile.content.primary()
    categories = [c.code for c in profile.content.categories]
    cat_fen = {c: np.zeros(len(communities), dtype=np.int64) for c in categories}
    for item in DEFICIENCY_ITEMS:
        category = primary[item]
        if category is None or item in funding.excluded_items:
            continue
        unit = model.unit(item)
        if unit.per_m2 is not None:
            fen = unit.per_m2 * area_centi
        elif unit.per_household is not None:
            fen = unit.per_household * 100 * households
        else:
            fen = np.full(len(communities), unit.lump_sum * 100, dtype=np.int64)
        cat_fen[category] += np.where(deficient[item].to_numpy(), fen, 0)
    cat_yuan = {c: _half_up(v, 100) for c, v in cat_fen.items()}
    cost = sum(cat_yuan.values(), np.zeros(len(communities), dtype=np.int64))

    if funding.kind == "category_shares":
        shares = funding.category_shares or {}
        d = math.lcm(*(s.denominator for s in shares.values()))
        residents_d = sum(
            (cat_yuan[c] * (shares[c].numerator * (d // shares[c].denominator)) for c in categories),
            np.zeros(len(communities), dtype=np.int64),
        )
        base_u = (cost * d - residents_d) * 100  # units of 1/(100 d) yuan
        if funding.subsidy_cap_yuan_per_m2 is not None:
            base_u = np.minimum(base_u, funding.subsidy_cap_yuan_per_m2 * area_centi * d)
        subsidy = _half_up(base_u, 100 * d)
        residents = cost - subsidy
    elif funding.kind == "per_household":
        low_raw = communities.get("low_income_households", pd.Series(0, index=communities.index))
        low = pd.to_numeric(low_raw, errors="coerce").fillna(0).round()
        low = np.minimum(low.to_numpy(dtype=np.int64), households)
        low_rate = funding.low_income_yuan_per_household
        low_rate = funding.yuan_per_household if low_rate is None else low_rate
        due = funding.yuan_per_household * (households - low) + low_rate * low
        residents = np.minimum(cost, due)
        subsidy = cost - residents
    elif funding.kind == "per_household_by_building_type":
        rates = funding.yuan_per_household_by_type or {}
        btype = communities.get("building_type", pd.Series("other", index=communities.index))
        rate = btype.astype("string").str.strip().map(lambda t: rates.get(t, rates.get("other", 0)))
        due = rate.fillna(rates.get("other", 0)).to_numpy(dtype=np.int64) * households
        residents = np.minimum(cost, due)
        subsidy = cost - residents
    else:
        residents = np.zeros(len(communities), dtype=np.int64)
        subsidy = cost.copy()

    def column(values: np.ndarray) -> pd.Series:
        return pd.Series(pd.array(values, dtype="Int64"), index=communities.index).where(known, pd.NA)

    breakdown = [
        {c: int(cat_yuan[c][i]) for c in categories if cat_yuan[c][i]} if known[i] else None
        for i in range(len(communities))
    ]
    return pd.DataFrame(
        {
            "cost_yuan": column(cost),
            "residents_yuan": column(residents),
            "subsidy_yuan": column(subsidy),
            "cost_breakdown": pd.Series(breakdown, index=communities.index, dtype=object),
        }
    )
