"""Eligibility (认定标准): which communities a profile admits, which it admits on conditions, which it excludes.

Each decision carries its reasons (``{code, text, source}``) so a planner can check every one against the policy
document. Spatial tests run in metres (the data's CGCS2000 Gauss–Krüger zone) and are vectorised: one STRtree
query for zone overlaps, one ``dwithin`` join for adjacency.

Every seed defines its targets by their deficits (楚 "公共设施落后影响居民基本生活", 芒 "配套设施不全或破损严重",
靖 "基础配套设施缺失", 玉 "市政配套设施不完善"), so a surveyed community with nothing deficient is not a target, and
one with no survey at all is ``conditional`` until it is surveyed (未调查), never silently eligible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.strtree import STRtree

from geo.crs import metric_crs
from geo.model import DEFICIENCY_ITEMS, ZONE_KINDS
from geo.policy.profiles import Condition, Extension, Lang, Profile

_TRUE = {"1", "true", "t", "yes", "y", "是", "有", "√", "✓"}
_LABEL_TO_CODE = {zh: code for code, (zh, _en) in DEFICIENCY_ITEMS.items()} | {c: c for c in DEFICIENCY_ITEMS}
_ZONE_EN = {
    "demolition": "demolition area",
    "shantytown": "shantytown",
    "urban_village": "urban village",
    "self_built": "self-built housing area",
}
_ORDER = {"eligible": 0, "conditional": 1, "excluded": 2}
#: Reason codes that leave a community conditional only until its data is checked (unknown year, no survey): such
#: a community is listed but not merged or planned until then.
NEEDS_CHECK_CODES = frozenset({"year_missing", "not_surveyed"})
EXTENSION_PREFIX = "extension:"


def admitting_extension(reasons: Iterable[Mapping[str, str]] | None) -> str | None:
    """The code of the extension rule that admitted a community (from its reasons), or None."""
    return next(
        (r["code"].removeprefix(EXTENSION_PREFIX) for r in reasons or () if r["code"].startswith(EXTENSION_PREFIX)),
        None,
    )


def needs_check(reasons: Iterable[Mapping[str, str]] | None) -> bool:
    """Whether a community's reasons say its data must be checked (year unknown, not surveyed) before planning."""
    return any(r["code"] in NEEDS_CHECK_CODES for r in reasons or ())


def _truthy_value(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.number):
        return not np.isnan(value) and value != 0
    if value is None or value is pd.NA:
        return False
    return str(value).strip().lower() in _TRUE


def _truthy(series: pd.Series) -> pd.Series:
    """是/否, 1/0, true/false, yes/no (and real booleans or numbers) as booleans; blanks are False."""
    return series.map(_truthy_value).astype(bool)


def _item_set(value: object) -> frozenset[str]:
    if isinstance(value, list | tuple | set | frozenset):
        parts = [str(v) for v in value]
    elif value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return frozenset()
    else:
        parts = str(value).replace("、", ",").replace("，", ",").replace(";", ",").split(",")
    return frozenset(_LABEL_TO_CODE[p.strip()] for p in parts if p.strip() in _LABEL_TO_CODE)


def align_survey(communities: pd.DataFrame, *, survey: pd.DataFrame | None) -> pd.DataFrame:
    """Survey facts per community, indexed like ``communities``.

    Matches ``survey.community_id`` to ``communities.id``, else ``name`` + ``street``. Returns ``surveyed`` (a
    survey row was found), one boolean column per deficiency item (missing survey → False), ``support_households``
    (float, NaN when unknown) and ``already_renovated`` (frozenset of item codes; Chinese labels are accepted).
    Shared by eligibility, scoring and funding so all three read the survey the same way.
    """
    out = pd.DataFrame(index=communities.index)
    if survey is None or survey.empty:
        rows = pd.DataFrame(index=communities.index)
        surveyed = np.zeros(len(communities), dtype=bool)
    else:
        if "community_id" in survey.columns and survey["community_id"].notna().any():
            by_id = survey.dropna(subset=["community_id"]).drop_duplicates("community_id", keep="last")
            by_id = by_id.set_index(by_id["community_id"].astype(str))
            cids = communities["id"].astype(str)
            surveyed = cids.isin(by_id.index).to_numpy()
            rows = by_id.reindex(cids)
        else:
            key = (
                survey["name"].astype(str)
                + "\x1f"
                + survey.get("street", pd.Series("", index=survey.index)).astype(str)
            )
            by_key = survey.assign(_key=key).drop_duplicates("_key", keep="last").set_index("_key")
            ckey = (
                communities["name"].astype(str)
                + "\x1f"
                + communities.get("street", pd.Series("", index=communities.index)).astype(str)
            )
            surveyed = ckey.isin(by_key.index).to_numpy()
            rows = by_key.reindex(ckey)
        rows.index = communities.index
    out["surveyed"] = surveyed
    for code in DEFICIENCY_ITEMS:
        out[code] = _truthy(rows[code]) if code in rows.columns else False
    out["support_households"] = (
        pd.to_numeric(rows["support_households"], errors="coerce").astype(float)
        if "support_households" in rows.columns
        else np.nan
    )
    renovated = rows["already_renovated"] if "already_renovated" in rows.columns else pd.Series(None, index=out.index)
    out["already_renovated"] = [_item_set(v) for v in renovated]
    return out


def effective_deficiencies(aligned: pd.DataFrame, *, profile: Profile) -> pd.DataFrame:
    """Deficient items that still count: on the profile's menu and (where the profile says so) not renovated."""
    menu = profile.content.primary()
    codes = list(DEFICIENCY_ITEMS)
    deficient = aligned[codes].astype(bool).copy()
    if profile.exclusions.already_renovated is not None:
        done = pd.DataFrame(
            {code: aligned["already_renovated"].map(lambda s, c=code: c in s).astype(bool) for code in codes},
            index=aligned.index,
        )
        deficient &= ~done
    off_menu = [code for code in codes if menu[code] is None]
    deficient[off_menu] = False
    return deficient


def _label(code: str, lang: Lang) -> str:
    return DEFICIENCY_ITEMS[code][1 if lang == "en" else 0]


def _join(parts: Iterable[str], lang: Lang) -> str:
    return (", " if lang == "en" else "、").join(parts)


def _support_at_least(aligned: pd.DataFrame, households: pd.Series, rate: Fraction) -> pd.Series:
    """support / households >= rate, counted exactly (integers, never rounded floats)."""
    support = aligned["support_households"]
    ok = support.notna() & households.notna() & (households > 0)
    s = support.where(ok, 0).round().astype("int64")
    h = households.where(ok, 1).round().astype("int64")
    return ok & (s * rate.denominator >= h * rate.numerator)


def _adjacent(metric: gpd.GeoDataFrame, targets: pd.Series, distance_m: float) -> pd.Series:
    """Which communities lie within ``distance_m`` of a ``targets`` community (other than themselves)."""
    left = metric[["geometry"]].reset_index(drop=True)
    right = metric.loc[targets.to_numpy(), ["geometry"]].reset_index()
    if right.empty:
        return pd.Series(False, index=metric.index)
    right = right.rename(columns={"index": "_target"}).reset_index(drop=True)
    right["_target_pos"] = np.flatnonzero(targets.to_numpy())
    joined = gpd.sjoin(left, right, predicate="dwithin", distance=distance_m)
    joined = joined[joined.index != joined["_target_pos"]]
    hit = np.zeros(len(metric), dtype=bool)
    hit[joined.index.unique()] = True
    return pd.Series(hit, index=metric.index)


def _condition(
    cond: Condition,
    *,
    deficient: pd.DataFrame,
    aligned: pd.DataFrame,
    communities: pd.DataFrame,
    metric: gpd.GeoDataFrame,
    has_task: pd.Series,
    profile: Profile,
) -> pd.Series:
    if cond.kind == "items":
        items = set(cond.items) | {
            code for code in DEFICIENCY_ITEMS if set(profile.content.categories_of(code)) & set(cond.categories)
        }
        met = deficient[sorted(items)].sum(axis=1) >= cond.min_count
        if cond.only_if_renovated:
            met &= aligned["already_renovated"].map(bool).astype(bool)
        return met
    if cond.kind == "no_property_management":
        pm = (
            communities["property_management"]
            if "property_management" in communities
            else pd.Series(pd.NA, index=communities.index)
        )
        known = pm.notna()
        return known & ~_truthy(pm)
    if cond.kind == "support_rate":
        households = pd.to_numeric(communities.get("households"), errors="coerce")
        return _support_at_least(aligned, households, cond.min_rate)
    return _adjacent(metric, has_task, cond.distance_m)


def _extension_outcome(ext: Extension, met: dict[int, pd.Series], index: pd.Index) -> pd.Series:
    ok = pd.Series(True, index=index)
    for i in range(len(ext.all_of)):
        ok &= met[i]
    if ext.any_of:
        any_ok = pd.Series(False, index=index)
        for j in range(len(ext.any_of)):
            any_ok |= met[len(ext.all_of) + j]
        ok &= any_ok
    return ok


class _Findings:
    """Findings collected by the assessment steps: (position, status, code, text, source) per community."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.records: list[tuple[int, str, str, str, str]] = []

    def add(
        self, mask: pd.Series | np.ndarray, status: str, code: str, texts: Iterable[str] | str, source: str
    ) -> None:
        """Record one finding for every community in ``mask`` (one text for all, or one per community)."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if isinstance(texts, str):
            texts = [texts] * len(positions)
        self.records.extend((int(p), status, code, t, source) for p, t in zip(positions, texts, strict=True))

    def excluded(self) -> np.ndarray:
        """Which communities some finding so far excludes."""
        hit = np.zeros(len(self.index), dtype=bool)
        hit[[pos for pos, status, *_ in self.records if status == "excluded"]] = True
        return hit

    def verdict(self) -> pd.DataFrame:
        """``status`` (the worst finding) and ``reasons`` (worst first) per community."""
        frame = pd.DataFrame.from_records(self.records, columns=["pos", "status", "code", "text", "source"])
        status = np.full(len(self.index), "eligible", dtype=object)
        reasons: list[list[dict[str, str]]] = [[] for _ in self.index]
        if not frame.empty:
            frame["rank"] = frame["status"].map(_ORDER)
            worst = frame.groupby("pos")["rank"].max()
            inverse = {v: k for k, v in _ORDER.items()}
            status[worst.index.to_numpy()] = worst.map(inverse).to_numpy()
            frame = frame.sort_values(["pos", "rank"], ascending=[True, False], kind="stable")
            for pos, code, text, source in frame[["pos", "code", "text", "source"]].itertuples(index=False):
                reasons[pos].append({"code": code, "text": text, "source": source})
        return pd.DataFrame({"status": status, "reasons": reasons}, index=self.index)


def assess(
    communities: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None,
    zones: gpd.GeoDataFrame | None,
    survey: pd.DataFrame | None,
    profile: Profile,
    lang: Lang = "zh",
) -> pd.DataFrame:
    """Assess every community against ``profile``.

    Returns a DataFrame indexed like ``communities`` with ``status`` (``eligible`` | ``conditional`` |
    ``excluded``) and ``reasons`` (list of ``{code, text, source}``, text in ``lang``). The worst finding sets the
    status (excluded > conditional > eligible); every finding is listed, so an excluded community shows all its
    grounds. The steps: the built-year cutoff, building hazards, excluded zones, the deficiencies the survey found
    (none: not a target; no survey: conditional, 未调查), the extension rules (which admit some communities the
    cutoff leaves out; Jingyuan's "closely connected" neighbour must itself have a renovation task: within the
    cutoff, not excluded and with a deficiency), and already renovated items.
    """
    findings = _Findings(communities.index)
    aligned = align_survey(communities, survey=survey)
    crs = metric_crs(communities)
    metric = communities[["geometry"]].to_crs(crs)
    year = pd.to_numeric(communities["year_built"], errors="coerce")
    year_ok, post = _cutoff(year, profile=profile, lang=lang, findings=findings)
    bld = _buildings_by_community(buildings, communities) if buildings is not None and len(buildings) else None
    late_ids: dict[int, list[str]] = {}
    if bld is not None:
        late_ids = _late_buildings(bld, profile=profile)
        _hazards(bld, profile=profile, lang=lang, findings=findings)
    if zones is not None and len(zones) and profile.exclusions.zones:
        _zone_reasons(metric, zones.to_crs(crs), profile, lang, findings.add)
    deficient = effective_deficiencies(aligned, profile=profile)
    has_deficiency = deficient.any(axis=1)
    surveyed = aligned["surveyed"].astype(bool)
    no_deficiency = surveyed & ~has_deficiency
    # A renovation task (有改造任务): within the cutoff, not excluded, something to renovate.
    has_task = year_ok & ~pd.Series(findings.excluded(), index=communities.index) & has_deficiency
    admitted_post = _extensions(
        communities,
        metric=metric,
        aligned=aligned,
        deficient=deficient,
        year=year,
        year_ok=year_ok,
        post=post,
        has_task=has_task,
        late_ids=late_ids,
        profile=profile,
        lang=lang,
        findings=findings,
    )
    late_out = post & ~admitted_post
    cutoff = profile.cutoff
    findings.add(
        late_out,
        "excluded",
        "built_after_cutoff",
        [
            (
                f"Built in {int(y)}: later than the cutoff ({cutoff.describe(lang)}) and no extension rule applies"
                if lang == "en"
                else f"建成于{int(y)}年，晚于认定年限（{cutoff.describe(lang)}），且不符合放宽条件"
            )
            for y in year[late_out]
        ],
        cutoff.source,
    )
    _deficiency_findings(no_deficiency, surveyed, profile=profile, lang=lang, findings=findings)
    _already_renovated(aligned, profile=profile, lang=lang, findings=findings)
    return findings.verdict()


def _deficiency_findings(
    no_deficiency: pd.Series, surveyed: pd.Series, *, profile: Profile, lang: Lang, findings: _Findings
) -> None:
    """Deficits define the target: nothing deficient is not a target; no survey at all needs one first."""
    en = lang == "en"
    rule = profile.deficiency
    findings.add(
        no_deficiency,
        "excluded",
        "no_deficiency",
        "The survey found nothing deficient (on the renovation menu and not yet renovated): not a renovation target"
        if en
        else "调查未发现需改造的设施缺项（改造清单内且未改造），不属于改造对象",
        rule.source,
    )
    findings.add(
        ~surveyed,
        "conditional",
        "not_surveyed",
        "Not surveyed (未调查): survey its facilities before it can be judged or planned"
        if en
        else "未调查：尚无摸底调查记录，须先调查设施缺项才能认定和列入计划",
        rule.survey_source,
    )


def _cutoff(year: pd.Series, *, profile: Profile, lang: Lang, findings: _Findings) -> tuple[pd.Series, pd.Series]:
    """The built-year cutoff: which communities are within it, which are later; an unknown year is conditional."""
    en = lang == "en"
    cutoff = profile.cutoff
    missing = year.isna()
    year_ok = (year <= cutoff.last_year_in).fillna(False).astype(bool)
    post = (year > cutoff.last_year_in).fillna(False).astype(bool)
    findings.add(
        missing,
        "conditional",
        "year_missing",
        "Year built unknown: check the year against the cutoff" if en else "缺少建成年份，需核实是否符合认定年限",
        cutoff.source,
    )
    findings.add(
        year_ok,
        "eligible",
        "built_before_cutoff",
        [
            (
                f"Built in {int(y)}: within the cutoff ({cutoff.describe(lang)})"
                if en
                else f"建成于{int(y)}年，符合认定年限（{cutoff.describe(lang)}）"
            )
            for y in year[year_ok]
        ],
        cutoff.source,
    )
    return year_ok, post


def _late_buildings(bld: pd.DataFrame, *, profile: Profile) -> dict[int, list[str]]:
    """Ids of the buildings later than the cutoff, per community position."""
    if "year_built" not in bld:
        return {}
    byear = pd.to_numeric(bld["year_built"], errors="coerce")
    late = bld[(byear > profile.cutoff.last_year_in).to_numpy()]
    return late.groupby("_pos")["id"].agg(lambda s: sorted(map(str, s))).to_dict()


def _hazards(bld: pd.DataFrame, *, profile: Profile, lang: Lang, findings: _Findings) -> None:
    """Exclude communities holding dangerous (safety grade) or hollow-core-slab buildings, where the profile does."""
    en = lang == "en"
    ex = profile.exclusions
    hazards = []
    if ex.safety_grades is not None and "safety_grade" in bld:
        grade = bld["safety_grade"].astype("string").str.strip().str.upper()
        hazards.append(
            (
                "dangerous_building",
                grade.isin(ex.safety_grades.grades).fillna(False).to_numpy(),
                ex.safety_grades.source,
                "/".join(ex.safety_grades.grades),
            )
        )
    if ex.hollow_core_slab is not None and "hollow_core_slab" in bld:
        hazards.append(
            ("hollow_core_slab", _truthy(bld["hollow_core_slab"]).to_numpy(), ex.hollow_core_slab.source, "")
        )
    for code, flag, source, grades in hazards:
        hit = bld[flag]
        if hit.empty:
            continue
        ids = hit.groupby("_pos")["id"].agg(lambda s: sorted(map(str, s)))
        mask = np.zeros(len(findings.index), dtype=bool)
        mask[ids.index.to_numpy()] = True
        if code == "dangerous_building":
            texts = [
                (
                    f"Buildings {', '.join(v)} are safety grade {grades} (dangerous)"
                    if en
                    else f"楼栋 {'、'.join(v)} 为{grades}级危房"
                )
                for v in ids
            ]
        else:
            texts = [
                (
                    f"Buildings {', '.join(v)} have hollow-core slab hazards"
                    if en
                    else f"楼栋 {'、'.join(v)} 存在多孔板结构安全隐患"
                )
                for v in ids
            ]
        findings.add(mask, "excluded", code, texts, source)


def _extensions(
    communities: gpd.GeoDataFrame,
    *,
    metric: gpd.GeoDataFrame,
    aligned: pd.DataFrame,
    deficient: pd.DataFrame,
    year: pd.Series,
    year_ok: pd.Series,
    post: pd.Series,
    has_task: pd.Series,
    late_ids: dict[int, list[str]],
    profile: Profile,
    lang: Lang,
    findings: _Findings,
) -> pd.Series:
    """The profile's extension rules; returns which post-cutoff communities they admit (as conditional).

    A ``post_cutoff`` rule admits a later community that meets its conditions; a ``mixed_buildings`` rule decides
    whether a qualifying community's later buildings come along, and says so when they do not.
    """
    en = lang == "en"
    index = communities.index
    mixed_ids = pd.Series([late_ids.get(p, []) for p in range(len(index))], index=index, dtype=object)
    has_mixed = mixed_ids.map(bool).astype(bool) & year_ok
    admitted_post = pd.Series(False, index=index)
    for ext in profile.extensions:
        scope = post if ext.applies_to == "post_cutoff" else has_mixed
        if ext.max_year is not None and ext.applies_to == "post_cutoff":
            scope = scope & (year <= ext.max_year).fillna(False)
        if not scope.any():
            continue
        conds = ext.all_of + ext.any_of
        met = {
            i: _condition(
                c,
                deficient=deficient,
                aligned=aligned,
                communities=communities,
                metric=metric,
                has_task=has_task,
                profile=profile,
            )
            for i, c in enumerate(conds)
        }
        ok = _extension_outcome(ext, met, index) & scope
        shown = [
            "; ".join(c.text.get(lang) for i, c in enumerate(conds) if met[i].iloc[pos]) for pos in np.flatnonzero(ok)
        ]
        findings.add(
            ok,
            "conditional",
            f"extension:{ext.code}",
            [ext.text.get(lang) + (f" ({s})" if en else f"（{s}）") if s else ext.text.get(lang) for s in shown],
            ext.source,
        )
        if ext.applies_to == "post_cutoff":
            admitted_post |= ok
        else:
            not_ok = scope & ~ok
            findings.add(
                not_ok,
                "conditional",
                f"not_admitted:{ext.code}",
                [
                    (
                        f"Buildings {', '.join(v)} are later than the cutoff and meet none of the conditions: "
                        "only the earlier buildings qualify"
                        if en
                        else f"楼栋 {'、'.join(v)} 晚于认定年限且不符合放宽条件，仅早于年限的楼栋可纳入"
                    )
                    for v in mixed_ids[not_ok]
                ],
                ext.source,
            )
    return admitted_post


def _already_renovated(aligned: pd.DataFrame, *, profile: Profile, lang: Lang, findings: _Findings) -> None:
    """Items renovated before earn no credit, where the profile says so (no repeated renovation of an item)."""
    if profile.exclusions.already_renovated is None:
        return
    done = aligned["already_renovated"]
    has = done.map(bool).astype(bool)
    findings.add(
        has,
        "eligible",
        "already_renovated",
        [
            (
                f"Already renovated, no credit: {_join((_label(c, lang) for c in sorted(s)), lang)}"
                if lang == "en"
                else f"已改造项目不再计分：{_join((_label(c, lang) for c in sorted(s)), lang)}"
            )
            for s in done[has]
        ],
        profile.exclusions.already_renovated.source,
    )


def _buildings_by_community(buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Buildings with ``_pos``: the position of their community (by ``community_id``, else by location)."""
    pos_of = pd.Series(np.arange(len(communities)), index=communities["id"].astype(str).to_numpy())
    pos = pd.Series(np.nan, index=buildings.index)
    if "community_id" in buildings:
        cid = buildings["community_id"]
        pos = cid.astype("string").map(pos_of).astype(float).where(cid.notna())
    unassigned = pos.isna().to_numpy()
    if unassigned.any():
        points = shapely.point_on_surface(buildings.geometry.to_crs(communities.crs).to_numpy()[unassigned])
        tree = STRtree(communities.geometry.to_numpy())
        src, dst = tree.query(points, predicate="within")
        located = pd.Series(dst, index=src).groupby(level=0).min()
        fill = np.full(unassigned.sum(), np.nan)
        fill[located.index.to_numpy()] = located.to_numpy()
        pos[unassigned] = fill
    out = pd.DataFrame(buildings.drop(columns="geometry")).assign(_pos=pos.to_numpy())
    out = out[out["_pos"].notna()].copy()
    out["_pos"] = out["_pos"].astype(int)
    return out


def _zone_reasons(metric: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, profile: Profile, lang: Lang, add) -> None:
    """Exclude communities more than ``zone_overlap_share`` inside a zone of an excluded kind (one STRtree query)."""
    en = lang == "en"
    ex = profile.exclusions
    source_of = {z.kind: z.source for z in ex.zones}
    kinds = zones["kind"].astype(str)
    zones = zones[kinds.isin(source_of).to_numpy()]
    if zones.empty:
        return
    cgeom = metric.geometry.to_numpy()
    zgeom = zones.geometry.to_numpy()
    ci, zi = STRtree(zgeom).query(cgeom, predicate="intersects")
    if len(ci) == 0:
        return
    inter = shapely.area(shapely.intersection(cgeom[ci], zgeom[zi]))
    share = inter / shapely.area(cgeom[ci])
    pairs = pd.DataFrame({"pos": ci, "zone": zi, "share": share})
    pairs = pairs[pairs["share"] > float(ex.zone_overlap_share)]
    if pairs.empty:
        return
    pairs = pairs.sort_values(["pos", "share"], ascending=[True, False]).drop_duplicates("pos")
    names = zones["name"].astype("string") if "name" in zones else zones["id"].astype("string")
    names = names.fillna(zones["id"].astype("string")).to_numpy()
    zkinds = zones["kind"].astype(str).to_numpy()
    limit = f"{float(ex.zone_overlap_share) * 100:g}%"
    for kind in pairs["zone"].map(lambda z: zkinds[z]).unique():
        sub = pairs[pairs["zone"].map(lambda z, k=kind: zkinds[z] == k)]
        mask = np.zeros(len(metric), dtype=bool)
        mask[sub["pos"].to_numpy()] = True
        texts = [
            (
                f"{share * 100:.1f}% of its area lies in {_ZONE_EN[kind]} “{names[z]}” (more than {limit})"
                if en
                else f"{share * 100:.1f}%的面积位于{ZONE_KINDS[kind]}“{names[z]}”内（超过{limit}）"
            )
            for z, share in zip(sub["zone"], sub["share"], strict=True)
        ]
        add(mask, "excluded", f"zone:{kind}", texts, source_of[kind])
