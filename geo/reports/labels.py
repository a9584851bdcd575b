"""Words for people: the Chinese (default) and English of every coded value a report shows.

A Chinese file holds no English developer text: statuses, yes/no, building types, scattered-building kinds and
rule sources are shown through these tables, never as the codes the analyses use.

Rule sources cite Chinese documents, which read the same in both languages. Where a profile adds an assumption of
its own (the seed is silent), its source holds both languages, Chinese first, separated by
:data:`geo.policy.profiles.SOURCE_EN_MARK`; :func:`geo.policy.profiles.source_text` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from geo.model import BUILDING_TYPES, STAGES, ZONE_KINDS
from geo.policy.profiles import Profile

STATUS: dict[str, tuple[str, str]] = {
    "eligible": ("符合条件", "eligible"),
    "conditional": ("有条件纳入", "conditional"),
    "excluded": ("不纳入", "excluded"),
}
YES_NO: dict[bool, tuple[str, str]] = {True: ("是", "yes"), False: ("否", "no")}
SCATTERED_SITUATION: dict[str, tuple[str, str]] = {
    "outside": ("不在任何小区范围内", "outside every compound"),
    "inside_newer": ("位于较新的小区内", "inside a newer compound"),
}
SCATTERED_ACTION: dict[str, tuple[str, str]] = {
    "attach": ("随邻近改造单元一并改造", "renovated with the nearby unit"),
    "single": ("作为单栋楼单独列入", "listed as a single building"),
}
PROGRESS_STATUS: dict[str, tuple[str, str]] = {
    "on_track": ("正常", "on track"),
    "due_soon": ("即将到期", "due soon"),
    "overdue": ("已逾期", "overdue"),
}


def _k(lang: str) -> int:
    return 1 if lang == "en" else 0


def word(table: Mapping[Any, tuple[str, str]], code: Any, lang: str) -> Any:
    """The label of ``code`` in ``lang``; unknown codes and blanks pass through (blank stays blank)."""
    if code is None or (not isinstance(code, str | bool) and pd.isna(code)):
        return None
    pair = table.get(code)
    return code if pair is None else pair[_k(lang)]


def words(table: Mapping[Any, tuple[str, str]], values: pd.Series, lang: str) -> pd.Series:
    """:func:`word` over a column."""
    return values.map(lambda v: word(table, v, lang)).astype(object)


def building_type(code: Any, lang: str) -> Any:
    if lang == "en":
        return code
    return word({k: (v, k) for k, v in BUILDING_TYPES.items()}, code, lang)


def zone_kind(code: str, lang: str) -> str:
    return code.replace("_", " ") if lang == "en" else ZONE_KINDS.get(code, code)


def stage_name(code: Any, lang: str, *, profile: Profile | None = None) -> Any:
    """A stage's name (never its code where one is known): in Chinese the profile's own name of the stage when it
    has one, else the common one; in English the common one."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return None
    if lang != "en" and profile is not None:
        spec = profile.stage(code)
        if spec is not None:
            return spec.zh
    return word(STAGES, code, lang)


def policy_text(profile: Profile, lang: str) -> str:
    """The policy a file or page follows, for its heading: the profile's name and its document."""
    name = profile.name.get(lang)
    return f"{name} ({profile.document})" if lang == "en" else f"{name}（{profile.document}）"


#: Kinds of eligibility reasons (the part of a reason code before ``:``), for rule sheets.
REASON_KINDS: dict[str, tuple[str, str]] = {
    "built_before_cutoff": ("符合认定年限", "built before the cutoff"),
    "built_after_cutoff": ("晚于认定年限", "built after the cutoff"),
    "year_missing": ("建成年份不详", "year built unknown"),
    "dangerous_building": ("危房", "dangerous building"),
    "hollow_core_slab": ("多孔板隐患", "hollow-core slab hazard"),
    "already_renovated": ("已改造项目", "items already renovated"),
    "zone": ("位于排除片区", "inside an excluded zone"),
    "extension": ("按放宽条件纳入", "admitted by an extension rule"),
    "not_admitted": ("不符合放宽条件", "extension rule not met"),
}


def reason_kind(code: str, lang: str) -> str:
    """A short label for a reason code (``zone:urban_village`` → 位于城中村)."""
    kind, _, detail = str(code).partition(":")
    if kind == "zone" and detail:
        return f"in a {zone_kind(detail, 'en')} zone" if lang == "en" else f"位于{zone_kind(detail, 'zh')}"
    pair = REASON_KINDS.get(kind)
    if pair is None:
        return code if lang == "en" else "认定理由"
    return pair[_k(lang)]
