"""Scattered old buildings (插花式老旧建筑): old buildings that no old community polygon covers.

Yulin's rule (玉政办发〔2022〕13号) asks that whole areas be planned and that old buildings standing among newer
ones, or outside any compound, be taken in. Each such building either joins the nearest renovation unit within
reach (it is renovated with it) or becomes a single-building (单栋楼) candidate of its own.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import metric_crs
from geo.errors import DataError

SCATTERED_COLUMNS = [
    "building_id",
    "community_id",
    "year_built",
    "households",
    "floor_area_m2",
    "situation",
    "action",
    "unit_id",
    "distance_m",
    "reason",
]


def find_scattered(
    buildings: gpd.GeoDataFrame,
    *,
    communities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame,
    cutoff_year: int,
    attach_m: float = 50.0,
    lang: str = "zh",
) -> pd.DataFrame:
    """Old buildings outside every community, or inside a community built at or after the cutoff.

    Parameters
    ----------
    buildings
        Footprints with ``id``, ``year_built`` and optionally ``community_id``, ``households``, ``floor_area_m2``.
        A building belongs to the community its ``community_id`` names; without one, to the community holding
        its representative point.
    communities
        Community polygons with ``id``, ``name`` and ``year_built``.
    units
        Renovation units (output of :func:`geo.space.units.merge_units`) with ``unit_id`` and outlines.
    cutoff_year
        Buildings with ``year_built < cutoff_year`` are old (e.g. 2000 for "built before 2000").
    attach_m
        A building at most this far (m) from a unit outline is renovated with that unit.
    lang
        Language of ``reason``.

    Returns
    -------
    pandas.DataFrame
        One row per scattered building (columns :data:`SCATTERED_COLUMNS`), in building order: ``situation``
        ``"outside"`` or ``"inside_newer"``, ``action`` ``"attach"`` (with ``unit_id`` and ``distance_m`` to its
        outline, rounded to 0.1 m) or ``"single"`` (a single-building candidate).
    """
    for layer, name, cols in (
        (buildings, "楼栋", ("id", "year_built")),
        (communities, "小区", ("id", "year_built")),
        (units, "改造单元", ("unit_id",)),
    ):
        missing = [c for c in cols if c not in layer.columns]
        if missing:
            raise DataError(
                f"{name}数据缺少列：{', '.join(missing)}", f"{name} data lacks columns: {', '.join(missing)}"
            )
    if len(buildings) == 0:
        return pd.DataFrame({c: [] for c in SCATTERED_COLUMNS})
    crs = metric_crs(buildings)
    footprints = np.asarray(buildings.geometry.to_crs(crs).values, dtype=object)
    home = _home_community(buildings, footprints, communities.to_crs(crs))
    comm_year = communities.set_index("id")["year_built"]
    comm_name = communities.set_index("id")["name"] if "name" in communities.columns else comm_year.astype(str)
    home_year = home.map(comm_year)
    year = pd.to_numeric(buildings["year_built"], errors="coerce").to_numpy()
    old = year < cutoff_year
    outside = home.isna().to_numpy()
    inside_newer = (~outside) & (pd.to_numeric(home_year, errors="coerce").to_numpy() >= cutoff_year)
    pick = np.flatnonzero(old & (outside | inside_newer))

    unit_geoms = np.asarray(units.geometry.to_crs(crs).values, dtype=object) if len(units) else np.array([])
    unit_of = np.full(len(pick), None, dtype=object)
    distance = np.full(len(pick), np.nan)
    if len(pick) and len(unit_geoms):
        (b, u), d = shapely.STRtree(unit_geoms).query_nearest(
            footprints[pick], max_distance=attach_m, return_distance=True, all_matches=False
        )
        unit_of[b] = units["unit_id"].to_numpy()[u]
        distance[b] = np.round(d, 1)
    attached = pd.notna(unit_of)

    get = buildings.iloc[pick]
    frame = pd.DataFrame(
        {
            "building_id": get["id"].to_numpy(),
            "community_id": home.iloc[pick].to_numpy(),
            "year_built": year[pick].astype(int),
            "households": get["households"].to_numpy() if "households" in get.columns else pd.NA,
            "floor_area_m2": get["floor_area_m2"].to_numpy() if "floor_area_m2" in get.columns else pd.NA,
            "situation": np.where(outside[pick], "outside", "inside_newer"),
            "action": np.where(attached, "attach", "single"),
            "unit_id": unit_of,
            "distance_m": distance,
        }
    )
    frame["reason"] = [
        _reason(
            year=int(r.year_built),
            where=None if r.situation == "outside" else (comm_name[r.community_id], int(home_year.iloc[k])),
            unit=r.unit_id if r.action == "attach" else None,
            distance=r.distance_m,
            attach_m=attach_m,
            lang=lang,
        )
        for k, r in zip(pick, frame.itertuples(index=False), strict=True)
    ]
    return frame[SCATTERED_COLUMNS]


def _home_community(buildings: gpd.GeoDataFrame, footprints: np.ndarray, communities: gpd.GeoDataFrame) -> pd.Series:
    """Community id of each building: its ``community_id`` when that names a known community, else by location."""
    known = set(communities["id"])
    given = (
        buildings["community_id"] if "community_id" in buildings.columns else pd.Series(None, index=buildings.index)
    )
    home = pd.Series([c if c in known else None for c in given], dtype=object)
    located = home.isna().to_numpy()
    if located.any() and len(communities):
        points = shapely.point_on_surface(footprints[located])
        polys = np.asarray(communities.geometry.values, dtype=object)
        p, c = shapely.STRtree(polys).query(points, predicate="within")
        first = pd.Series(c, index=p).groupby(level=0).min()
        rows = np.flatnonzero(located)[first.index.to_numpy()]
        home.iloc[rows] = communities["id"].to_numpy()[first.to_numpy()]
    return home


def _reason(
    *,
    year: int,
    where: tuple[str, int] | None,
    unit: str | None,
    distance: float,
    attach_m: float,
    lang: str,
) -> str:
    if lang == "en":
        place = "outside any community" if where is None else f"inside {where[0]}, a community built in {where[1]}"
        head = f"scattered old building built in {year}, {place}"
        if unit is not None:
            return f"{head}; {distance:.1f} m from unit {unit} (≤ {attach_m:g} m): renovate with that unit"
        return f"{head}; no unit within {attach_m:g} m: listed as a single-building candidate"
    place = "不在任何小区范围内" if where is None else f"位于{where[1]}年建成的{where[0]}内"
    head = f"{year}年建成的插花式老旧楼栋，{place}"
    if unit is not None:
        return f"{head}；距改造单元{unit} {distance:.1f}米（≤{attach_m:g}米），随该单元一并改造"
    return f"{head}；{attach_m:g}米内无改造单元，作为单栋楼单独列入候选"
