"""Implementation packages and yearly batches: which units are tendered together, and in which year.

A street renovates its units in packages (one tender, one contractor on site): neighbouring units, so the works
stay in one place, never splitting a unit. Packages go into years by priority (households-weighted score) within
the yearly budget and the count targets (the seeds state plans as "N communities in year Y", or as a total over
several years: 芒市 105 over 2019–2021, 楚雄 112 over 2021–2022, which caps the span, not each year). Planner pins
(a community fixed to a year, or kept out) come first; everything else fills the years around them.

Communities admitted by an extension whose profile caps them at a share of the annual task (玉林 四(一):
"可按年度改造任务一定比例纳入改造范围") are counted per unit in ``n_share_capped``; units holding them form
packages of their own and fill each year only up to that share of the year's planned communities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import DataError
from geo.model import STORAGE_EPSG
from geo.space.adjacency import adjacency
from geo.space.units import MONEY_COLUMNS, Pins

TOTAL_COLUMNS = ("households", "floor_area_m2", *MONEY_COLUMNS)
UNIT_INPUT_COLUMNS = ("unit_id", "street", "members", "n_members", "score", *TOTAL_COLUMNS)
YEAR_COLUMNS = ["year", "packages", "units", "communities", "conditional_communities", *TOTAL_COLUMNS]
#: A count target: the years it spans and the most communities planned in them together.
CountTarget = tuple[tuple[int, ...], int]


@dataclass(frozen=True)
class Plan:
    """A street's (or several streets') renovation schedule.

    Attributes
    ----------
    units
        The input units with ``package_id`` and ``year`` (``year`` empty for units kept out by a pin or beyond
        the conditional share; ``package_id`` empty for units kept out by a pin).
    packages
        One row per package: ``package_id``, ``street``, ``units`` (unit ids), ``n_units``, ``communities``,
        ``conditional_communities``, ``year``, totals, ``score`` and the package outline (EPSG:4490).
    years
        One row per year from the first to the last planned year: counts (``conditional_communities``: members
        admitted only on conditions) and totals (money in integer yuan).
    warnings
        Plain-language notes on anything the plan could not honour as asked (over-budget units, pins).
    """

    units: gpd.GeoDataFrame
    packages: gpd.GeoDataFrame
    years: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def plan_street(
    units: gpd.GeoDataFrame,
    *,
    year_from: int,
    budget_per_year: int | None,
    count_per_year: Mapping[int, int] | None = None,
    count_targets: Sequence[CountTarget] | None = None,
    conditional_share: Fraction | None = None,
    pins: Pins | None = None,
    package_max_units: int = 4,
    gap_m: float = 15.0,
    lang: str = "zh",
) -> Plan:
    """Group units into contiguous packages and schedule the packages year by year.

    Parameters
    ----------
    units
        Output of :func:`geo.space.units.merge_units` (``unit_id``, ``street``, ``members``, ``n_members``, ``score``,
        totals, outline).
    year_from
        First plan year.
    budget_per_year
        Total ``cost_yuan`` allowed per year; ``None`` for no budget limit. A package costing more than a whole
        year's budget gets a year to itself, with a warning.
    count_per_year
        Largest number of communities per year, for the years listed (years not listed have no count limit).
    count_targets
        Largest number of communities over each span of years, ``((years...), count)``, the years together (a
        one-year span is a per-year cap); given with ``count_per_year``, both apply.
    conditional_share
        Largest share of each year's planned communities that units' ``n_share_capped`` members may take
        (``None``: no cap). Units holding such members are packaged apart; one that fits no year within the
        plan's years is left unscheduled with a warning.
    pins
        ``year`` pins fix the year of the unit holding the community; ``exclude`` pins keep its unit out.
    package_max_units
        Most units in one package (one tender).
    gap_m
        Units this close (m) count as neighbours when forming packages.
    lang
        Language of the warnings.

    Returns
    -------
    Plan
        Packages are formed greedily: the highest-priority unit seeds a package that takes its highest-priority
        neighbours (same street, same year pin, same share-capped kind) while the unit count and the budget allow.
        Packages then go, in priority order, into the earliest year from ``year_from`` with room in budget,
        counts and (for share-capped ones) the conditional share.
    """
    missing = [c for c in UNIT_INPUT_COLUMNS if c not in units.columns]
    if missing:
        raise DataError(f"改造单元缺少列：{', '.join(missing)}", f"units lack columns: {', '.join(missing)}")
    if package_max_units < 1:
        raise DataError("每个项目包至少含1个单元", "a package must hold at least one unit")
    pins = pins or Pins()
    en = lang == "en"
    warnings: list[str] = []
    units = units.reset_index(drop=True)
    for column in ("n_conditional", "n_share_capped"):
        if column not in units.columns:
            units[column] = 0
    member_lists = [list(m) for m in units["members"]]
    _check_pins_known(pins, member_lists)

    excluded = np.array([any(c in pins.exclude for c in m) for m in member_lists], dtype=bool)
    for k in np.flatnonzero(excluded):
        ids = ", ".join(str(c) for c in member_lists[k] if c in pins.exclude)
        uid = units.at[k, "unit_id"]
        warnings.append(
            f"unit {uid} holds excluded communities ({ids}) and is left out of the plan"
            if en
            else f"改造单元{uid}含指定排除的小区（{ids}），整单元未列入计划"
        )
    pinned_year = _unit_year_pins(units, member_lists, pins)

    active = units[~excluded].reset_index(drop=True)
    active_pins = [pinned_year[k] for k in np.flatnonzero(~excluded)]
    capped = (active["n_share_capped"].to_numpy(dtype=np.int64) > 0) if conditional_share is not None else None
    packages = _form_packages(
        active,
        pinned=active_pins,
        capped=capped,
        budget=budget_per_year,
        max_units=package_max_units,
        gap_m=gap_m,
    )
    package_frame = _package_totals(active, packages)
    spans = [((y,), int(c)) for y, c in sorted((count_per_year or {}).items())]
    spans += [(tuple(sorted(int(y) for y in ys)), int(c)) for ys, c in count_targets or ()]
    years = _schedule(
        package_frame,
        pinned=[active_pins[p[0]] for p in packages],
        year_from=year_from,
        budget=budget_per_year,
        spans=spans,
        share=conditional_share,
        warnings=warnings,
        en=en,
    )
    package_frame["year"] = pd.array(years, dtype="Int64")

    unit_package = np.empty(len(active), dtype=object)
    for p, members in enumerate(packages):
        unit_package[members] = package_frame.at[p, "package_id"]
    planned = active.assign(package_id=unit_package)
    planned = planned.merge(package_frame[["package_id", "year"]], on="package_id", how="left")
    out_units = units.merge(planned[["unit_id", "package_id", "year"]], on="unit_id", how="left")
    out_units["year"] = out_units["year"].astype("Int64")

    outline = gpd.GeoDataFrame(
        {"package_id": unit_package}, geometry=active.geometry.to_crs(STORAGE_EPSG).values, crs=STORAGE_EPSG
    ).dissolve(by="package_id", sort=True)
    package_gdf = gpd.GeoDataFrame(
        package_frame, geometry=outline.geometry.reindex(package_frame["package_id"]).values, crs=STORAGE_EPSG
    )
    package_gdf = package_gdf.sort_values(["year", "package_id"], kind="stable").reset_index(drop=True)
    return Plan(
        units=gpd.GeoDataFrame(out_units, geometry=units.geometry.name, crs=units.crs),
        packages=package_gdf,
        years=_year_table(package_gdf, year_from=year_from),
        warnings=warnings,
    )


def _check_pins_known(pins: Pins, member_lists: list[list[object]]) -> None:
    known = {c for m in member_lists for c in m}
    unknown = sorted({*pins.year, *pins.exclude} - known, key=str)
    if unknown:
        raise DataError(
            "指定的小区不在任何改造单元中", "pinned communities are not in any renovation unit", rows=unknown
        )


def _unit_year_pins(units: gpd.GeoDataFrame, member_lists: list[list[object]], pins: Pins) -> list[int | None]:
    """The pinned year of each unit; members of one unit pinned to different years is a contradiction."""
    out: list[int | None] = []
    for k, members in enumerate(member_lists):
        years = sorted({int(pins.year[c]) for c in members if c in pins.year})
        if len(years) > 1:
            uid = units.at[k, "unit_id"]
            raise DataError(
                f"改造单元{uid}的小区被指定到不同年份（{', '.join(map(str, years))}），同一单元须同年实施",
                f"communities of unit {uid} are pinned to different years ({', '.join(map(str, years))}); "
                "a unit is renovated in one year",
                rows=[c for c in members if c in pins.year],
            )
        out.append(years[0] if years else None)
    return out


def _form_packages(
    units: gpd.GeoDataFrame,
    *,
    pinned: list[int | None],
    capped: np.ndarray | None,
    budget: int | None,
    max_units: int,
    gap_m: float,
) -> list[list[int]]:
    """Contiguous packages of unit positions, highest priority first within each package.

    A package keeps to one year pin and one kind (share-capped or not), so the share moves only what it caps.
    """
    if len(units) == 0:
        return []
    nodes = units[["unit_id", "street"]].rename(columns={"unit_id": "id"})
    nodes = gpd.GeoDataFrame(nodes, geometry=units.geometry.values, crs=units.crs)
    pairs = adjacency(nodes, gap_m=gap_m)
    index = pd.Index(units["unit_id"])
    neighbours: list[set[int]] = [set() for _ in range(len(units))]
    for a, b in zip(index.get_indexer(pairs["i_id"]), index.get_indexer(pairs["j_id"]), strict=True):
        neighbours[a].add(b)
        neighbours[b].add(a)
    score = units["score"].fillna(0.0).to_numpy(dtype=float)
    cost = units["cost_yuan"].to_numpy(dtype=np.int64)
    key = units["unit_id"].astype(str).to_numpy()
    kind = [(pinned[k], bool(capped[k]) if capped is not None else False) for k in range(len(units))]

    def rank(k: int) -> tuple[float, str]:
        return (-score[k], key[k])

    taken: set[int] = set()
    packages: list[list[int]] = []
    for seed in sorted(range(len(units)), key=rank):
        if seed in taken:
            continue
        members = [seed]
        taken.add(seed)
        spent = int(cost[seed])
        frontier = {n for n in neighbours[seed] if n not in taken and kind[n] == kind[seed]}
        while frontier and len(members) < max_units:
            pick = min(frontier, key=rank)
            frontier.discard(pick)
            if budget is not None and spent + int(cost[pick]) > budget:
                continue
            members.append(pick)
            taken.add(pick)
            spent += int(cost[pick])
            frontier |= {n for n in neighbours[pick] if n not in taken and kind[n] == kind[seed]}
        packages.append(members)
    return packages


def _package_totals(units: gpd.GeoDataFrame, packages: list[list[int]]) -> pd.DataFrame:
    """Totals of each package (one grouped pass over the units, not a pandas slice per package)."""
    columns = [
        "package_id",
        "street",
        "units",
        "n_units",
        "communities",
        "conditional_communities",
        "share_capped",
        *TOTAL_COLUMNS,
        "score",
    ]
    if not packages:
        return pd.DataFrame(columns=columns)
    positions = np.concatenate([np.asarray(m, dtype=np.int64) for m in packages])
    owner = np.repeat(np.arange(len(packages)), [len(m) for m in packages])
    part = pd.DataFrame(units.drop(columns=units.geometry.name).iloc[positions]).reset_index(drop=True)
    part["_package"] = owner
    part["_unit"] = part["unit_id"].astype(str)
    part["_score"] = part["score"].fillna(0.0).astype(float)
    part["_weight"] = part["households"].astype(float)
    part["_weighted"] = part["_score"] * part["_weight"]
    grouped = part.groupby("_package", sort=True)
    summed = ["households", "floor_area_m2", "n_members", "n_conditional", "n_share_capped", *MONEY_COLUMNS]
    sums = grouped[[*summed, "_weight", "_weighted"]].sum()
    weight = sums["_weight"].to_numpy()
    mean = grouped["_score"].mean().to_numpy()
    score = np.where(weight > 0, sums["_weighted"].to_numpy() / np.where(weight > 0, weight, 1), mean)
    unit_ids = part.sort_values(["_package", "_unit"]).groupby("_package", sort=True)["_unit"].agg(list)
    out = pd.DataFrame(
        {
            "package_id": ["P-" + ids[0].removeprefix("U-") for ids in unit_ids],
            "street": grouped["street"].first().to_numpy(),
            "units": unit_ids.to_numpy(),
            "n_units": grouped.size().to_numpy(),
            "communities": sums["n_members"].astype(int).to_numpy(),
            "conditional_communities": sums["n_conditional"].astype(int).to_numpy(),
            "share_capped": sums["n_share_capped"].astype(int).to_numpy(),
            "households": sums["households"].astype(int).to_numpy(),
            "floor_area_m2": sums["floor_area_m2"].astype(float).round(1).to_numpy(),
            **{c: sums[c].astype(np.int64).to_numpy() for c in MONEY_COLUMNS},
            "score": [round(float(x), 2) for x in score],
        }
    )
    return out[columns]


def _schedule(
    packages: pd.DataFrame,
    *,
    pinned: list[int | None],
    year_from: int,
    budget: int | None,
    spans: list[CountTarget],
    share: Fraction | None,
    warnings: list[str],
    en: bool,
) -> list[int | None]:
    """Year of each package: pinned ones first, then by priority into the earliest year with room.

    A share-capped package goes into the earliest year where the share still holds (capped communities ≤ share ×
    the year's planned communities, itself included); until one has room it waits, and is placed as soon as the
    communities planned in a year make room for it, or stays unscheduled with a warning.
    """
    cost_used: dict[int, int] = {}
    count_used: dict[int, int] = {}
    capped_used: dict[int, int] = {}
    years: list[int | None] = [None] * len(packages)
    cost = packages["cost_yuan"].to_numpy(dtype=np.int64)
    n = packages["communities"].to_numpy(dtype=np.int64)
    c = packages["share_capped"].to_numpy(dtype=np.int64) if share is not None else np.zeros(len(n), np.int64)
    ids = packages["package_id"].to_numpy()
    score = packages["score"].to_numpy(dtype=float)
    last_counted = max((y for span_years, _count in spans for y in span_years), default=None)
    oversized: list[tuple[str, int, int]] = []
    late: list[int] = []

    def place(p: int, year: int) -> None:
        years[p] = year
        cost_used[year] = cost_used.get(year, 0) + int(cost[p])
        count_used[year] = count_used.get(year, 0) + int(n[p])
        capped_used[year] = capped_used.get(year, 0) + int(c[p])

    def count_fits(p: int, year: int) -> bool:
        return all(
            sum(count_used.get(y, 0) for y in span_years) + int(n[p]) <= count
            for span_years, count in spans
            if year in span_years
        )

    def budget_fits(p: int, year: int) -> bool:
        if budget is None:
            return True
        if int(cost[p]) > budget:
            return year not in cost_used
        return cost_used.get(year, 0) + int(cost[p]) <= budget

    def share_fits(p: int, year: int) -> bool:
        if share is None or not c[p]:
            return True
        capped_n = capped_used.get(year, 0) + int(c[p])
        total = count_used.get(year, 0) + int(n[p])
        return capped_n * share.denominator <= share.numerator * total

    def first_year(p: int) -> int | None:
        """The earliest year from ``year_from`` with room. A share-capped package that cannot hold the share in a
        year of its own only looks among the years already planned (None: none has room yet)."""
        alone_ok = share is None or not c[p] or c[p] * share.denominator <= share.numerator * n[p]
        last = None if alone_ok else max(count_used, default=year_from - 1)
        year = year_from
        while not fits(p, year):
            year += 1
            if last is not None and year > last:
                return None
        return year

    def fits(p: int, year: int) -> bool:
        return budget_fits(p, year) and count_fits(p, year) and share_fits(p, year)

    def settle(p: int, year: int) -> None:
        if budget is not None and int(cost[p]) > budget:
            oversized.append((str(ids[p]), int(cost[p]), year))
        place(p, year)
        if last_counted is not None and year > last_counted:
            late.append(p)

    for p in range(len(packages)):
        year = pinned[p]
        if year is None:
            continue
        place(p, year)
        if budget is not None and cost_used[year] > budget:
            warnings.append(
                f"pinned package {ids[p]} takes {year} over budget: {cost_used[year]} > {budget} yuan"
                if en
                else f"指定年份的项目包{ids[p]}使{year}年投资超出预算：{cost_used[year]}元 > {budget}元"
            )
    # Priority order throughout; a share-capped package with no year yet waits, in priority order, for a year
    # whose planned communities grow enough to hold it (only the year just added to can newly have room).
    waiting: list[int] = []
    for p in sorted((p for p in range(len(packages)) if pinned[p] is None), key=lambda p: (-score[p], str(ids[p]))):
        year = first_year(p)
        if year is None:
            waiting.append(p)
            continue
        settle(p, year)
        placed = True
        while placed and waiting:
            ready = next((q for q in waiting if fits(q, year)), None)
            placed = ready is not None
            if placed:
                waiting.remove(ready)
                settle(ready, year)
    if waiting:  # said once, however many packages wait
        pct = f"{float(share) * 100:g}%" if share is not None else ""
        shown = [str(ids[p]) for p in waiting[:5]]
        more = (" …" if en else "等") if len(waiting) > 5 else ""
        capped = int(sum(int(c[p]) for p in waiting))
        warnings.append(
            f"{len(waiting)} packages ({', '.join(shown)}{more}) hold {capped} communities admitted on a share of "
            f"the annual task; no planned year has room for them within the budget, the count targets and the "
            f"share ({pct} of the year's communities): left unscheduled"
            if en
            else f"{len(waiting)}个项目包（{'、'.join(shown)}{more}）含按年度任务比例纳入的小区{capped}个，"
            f"各计划年度在预算、数量目标和比例上限（年度小区数的{pct}）内均无余量，暂未列入年度计划"
        )
    warnings.extend(_schedule_notes(packages, years, oversized, late, year_from, budget, last_counted, en))
    if share is not None:
        for year in sorted(capped_used):
            if capped_used[year] * share.denominator > share.numerator * count_used[year]:
                warnings.append(
                    f"{year}: pinned packages put {capped_used[year]} of {count_used[year]} communities on the "
                    f"annual share, above {float(share) * 100:g}%"
                    if en
                    else f"{year}年：指定年份使按比例纳入的小区达{capped_used[year]}个（共{count_used[year]}个），"
                    f"超过年度比例{float(share) * 100:g}%"
                )
    return years


#: A plan longer than this many years (two five-year plans) means the budget is far too small for the programme.
LONG_PLAN_YEARS = 10


def _schedule_notes(
    packages: pd.DataFrame,
    years: list[int | None],
    oversized: list[tuple[str, int, int]],
    late: list[int],
    year_from: int,
    budget: int | None,
    last_counted: int | None,
    en: bool,
) -> list[str]:
    """What the schedule could not honour, said once each however many packages it concerns."""
    notes = []
    if len(oversized) == 1:
        pid, cost, year = oversized[0]
        notes.append(
            f"package {pid} costs {cost:,} yuan, more than a year's budget ({budget:,}); it has {year} to itself"
            if en
            else f"项目包{pid}投资{cost:,}元，超过单年预算（{budget:,}元），单独安排在{year}年"
        )
    elif oversized:
        ids = [o[0] for o in oversized[:5]]
        more = " …" if len(oversized) > 5 else ""
        notes.append(
            f"{len(oversized)} packages ({', '.join(ids)}{more}) each cost more than a year's budget "
            f"({budget:,} yuan) and have a year to themselves"
            if en
            else f"{len(oversized)}个项目包（{'、'.join(ids)}{more}）投资超过单年预算（{budget:,}元），"
            "各自单独安排一年"
        )
    if late:
        n = int(packages["communities"].to_numpy()[late].sum())
        notes.append(
            f"{len(late)} packages ({n} communities) fall after {last_counted}, the last year with a count target"
            if en
            else f"{len(late)}个项目包（{n}个小区）排在有数量目标的最后一年（{last_counted}年）之后"
        )
    planned = [y for y in years if y is not None]
    if planned and budget is not None:
        last = max(planned)
        span = last - year_from + 1
        total = int(packages["cost_yuan"].sum())
        if span > LONG_PLAN_YEARS:
            times = (
                (f" (about {total / budget:.0f} years' budget)" if en else f"（约为{total / budget:.0f}年的预算）")
                if budget > 0
                else ""
            )
            notes.append(
                f"at {budget:,} yuan a year the plan needs {span} years (to {last}): the budget is far too small "
                f"for {total:,} yuan of works{times}"
                if en
                else f"按每年预算{budget:,}元，全部实施需要{span}年（至{last}年）：预算远小于总投资{total:,}元{times}"
            )
        elif late:
            notes.append(
                f"at {budget:,} yuan a year the plan needs {span} years (to {last})"
                if en
                else f"按每年预算{budget:,}元，全部实施需要{span}年（至{last}年）"
            )
    return notes


def _year_table(packages: gpd.GeoDataFrame, *, year_from: int) -> pd.DataFrame:
    if len(packages) == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in YEAR_COLUMNS})
    grouped = (
        pd.DataFrame(packages.drop(columns="geometry"))
        .groupby("year")
        .agg(
            packages=("package_id", "size"),
            units=("n_units", "sum"),
            communities=("communities", "sum"),
            conditional_communities=("conditional_communities", "sum"),
            **{c: (c, "sum") for c in TOTAL_COLUMNS},
        )
    )
    span = range(min(year_from, int(grouped.index.min())), int(grouped.index.max()) + 1)
    table = grouped.reindex(span, fill_value=0).rename_axis("year").reset_index()
    table["floor_area_m2"] = table["floor_area_m2"].astype(float).round(1)
    for c in ("year", "packages", "units", "communities", "conditional_communities", "households", *MONEY_COLUMNS):
        table[c] = table[c].astype("int64")
    return table[YEAR_COLUMNS]
