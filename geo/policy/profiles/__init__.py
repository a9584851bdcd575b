"""Policy profiles: one YAML file per jurisdiction, loaded into frozen pydantic models.

Every rule the analyses apply (cutoff year, exclusions, extensions, content menu, consent, publicity, funding,
stages, deadlines, targets, scoring weights, merging caps) is data in a file of this package, each with the
seed document and clause it comes from, so a new city is a new file and never a new ``if`` branch. Where a
seed is silent, the file says so in the ``source`` text, in Chinese then English: "假设：…… | en: assumption: ..."
(``geo.reports.labels.source_text`` shows one language).
"""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    create_model,
    model_validator,
)

from geo.errors import DataError, NotFoundError
from geo.model import DEFICIENCY_ITEMS, SAFETY_GRADES, STAGES, ZONE_KINDS

PROFILE_DIR = Path(__file__).parent


def _to_fraction(value: Any) -> Any:
    """Read "2/3", "0.3", 0.3 or 1 as an exact fraction (floats via their shortest decimal text)."""
    if isinstance(value, bool):
        raise ValueError("expected a fraction such as '2/3', not a boolean")
    if isinstance(value, int | float | str):
        try:
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(f"not a fraction: {value!r}") from exc
    return value


Ratio = Annotated[Fraction, BeforeValidator(_to_fraction), PlainSerializer(str, return_type=str)]
ItemCode = Literal[tuple(DEFICIENCY_ITEMS)]  # type: ignore[valid-type]
StageCode = Literal[tuple(STAGES)]  # type: ignore[valid-type]
ZoneKind = Literal[tuple(ZONE_KINDS)]  # type: ignore[valid-type]
Grade = Literal[SAFETY_GRADES]  # type: ignore[valid-type]
Source = Annotated[str, Field(min_length=1)]
Lang = Literal["zh", "en"]
ScoringFactor = Literal["deficiencies", "priority_items", "age", "households", "support", "funds"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Text(_Frozen):
    """A phrase in both languages."""

    zh: str
    en: str

    def get(self, lang: Lang = "zh") -> str:
        return self.en if lang == "en" else self.zh


class Cutoff(_Frozen):
    """Built-year cutoff: ``year`` with its edge (``inclusive``: 含 that year; else only earlier years)."""

    year: int
    inclusive: bool
    source: Source

    @property
    def last_year_in(self) -> int:
        """The last built year that qualifies without an extension rule."""
        return self.year if self.inclusive else self.year - 1

    def describe(self, lang: Lang = "zh") -> str:
        if lang == "en":
            return f"built in {self.last_year_in} or earlier"
        return f"{self.last_year_in}年（含）以前建成"


class ZoneExclusion(_Frozen):
    kind: ZoneKind
    source: Source


class DeficiencyRule(_Frozen):
    """Deficits define the target: a surveyed community with nothing deficient is not a renovation target.

    ``source`` quotes the seed's definition by deficits (楚 "公共设施落后影响居民基本生活", 芒 "配套设施不全或
    破损严重", 靖 "基础配套设施缺失", 玉 "市政配套设施不完善"); ``survey_source`` the clause that asks for the
    survey (摸底调查), which tells a community without survey data that it needs one before it can be judged.
    """

    source: Source
    survey_source: Source


class GradeExclusion(_Frozen):
    grades: tuple[Grade, ...] = Field(min_length=1)
    source: Source


class Rule(_Frozen):
    """A rule with nothing to parameterise beyond its presence and source."""

    source: Source


class Exclusions(_Frozen):
    """What keeps a community out: zones by kind (above ``zone_overlap_share`` of its area), building hazards."""

    zones: tuple[ZoneExclusion, ...]
    zone_overlap_share: Ratio
    zone_overlap_source: Source
    safety_grades: GradeExclusion | None
    hollow_core_slab: Rule | None
    already_renovated: Rule | None


class Condition(_Frozen):
    """One testable condition of an extension rule.

    ``items``: at least ``min_count`` deficient items among ``items`` and/or the items of ``categories`` (with
    ``only_if_renovated`` it also needs earlier renovation); ``no_property_management``; ``support_rate``: support
    households / households at least ``min_rate``; ``adjacent_to_eligible``: within ``distance_m`` of a
    community that has a renovation task itself (within the cutoff, not excluded, with a surveyed deficiency).
    """

    kind: Literal["items", "no_property_management", "support_rate", "adjacent_to_eligible"]
    items: tuple[ItemCode, ...] = ()
    categories: tuple[str, ...] = ()
    min_count: int = 1
    only_if_renovated: bool = False
    min_rate: Ratio | None = None
    distance_m: float | None = None
    text: Text

    @model_validator(mode="after")
    def _parameters(self) -> Condition:
        if self.kind == "items" and not (self.items or self.categories):
            raise ValueError("an 'items' condition needs items or categories")
        if self.kind == "support_rate" and self.min_rate is None:
            raise ValueError("a 'support_rate' condition needs min_rate")
        if self.kind == "adjacent_to_eligible" and self.distance_m is None:
            raise ValueError("an 'adjacent_to_eligible' condition needs distance_m")
        return self


class Extension(_Frozen):
    """A rule admitting (as ``conditional``) what the cutoff leaves out.

    ``applies_to``: ``post_cutoff`` communities (optionally up to ``max_year``) or ``mixed`` communities that
    qualify on their own year but hold post-cutoff buildings. Admitted when every ``all_of`` condition holds and,
    if ``any_of`` is given, at least one of those. Admitted communities go into units and plans, marked
    conditional; ``annual_share`` caps how many of each year's planned communities they may be (its own source
    says where the figure comes from, a 假设 until the city sets one).
    """

    code: str
    applies_to: Literal["post_cutoff", "mixed"]
    max_year: int | None = None
    all_of: tuple[Condition, ...] = ()
    any_of: tuple[Condition, ...] = ()
    annual_share: Ratio | None = None
    annual_share_source: Source | None = None
    text: Text
    source: Source

    @model_validator(mode="after")
    def _share(self) -> Extension:
        if self.annual_share is not None:
            if not 0 < self.annual_share <= 1:
                raise ValueError("annual_share must be above 0 and at most 1")
            if self.annual_share_source is None:
                raise ValueError("annual_share needs annual_share_source (the seed clause, or 假设 and why)")
        return self


class Category(_Frozen):
    code: str
    zh: str
    en: str
    source: Source

    def label(self, lang: Lang = "zh") -> str:
        return self.en if lang == "en" else self.zh


#: Item code -> its categories (first = the one that scores and is costed; empty = not on the city's menu).
ItemCategories = create_model(
    "ItemCategories",
    __config__=ConfigDict(frozen=True, extra="forbid"),
    **{code: (tuple[str, ...], ...) for code in DEFICIENCY_ITEMS},
)


class ContentMenu(_Frozen):
    categories: tuple[Category, ...] = Field(min_length=1)
    items: ItemCategories  # type: ignore[valid-type]
    source: Source

    @model_validator(mode="after")
    def _known_categories(self) -> ContentMenu:
        known = {c.code for c in self.categories}
        for code in DEFICIENCY_ITEMS:
            unknown = [c for c in getattr(self.items, code) if c not in known]
            if unknown:
                raise ValueError(f"items.{code}: unknown category {unknown[0]!r} (known: {sorted(known)})")
        return self

    def categories_of(self, item: str) -> tuple[str, ...]:
        return getattr(self.items, item)

    def primary(self) -> dict[str, str | None]:
        """Item code -> the category that scores and is costed (None: not on the menu)."""
        return {code: (getattr(self.items, code) or (None,))[0] for code in DEFICIENCY_ITEMS}

    def category(self, code: str) -> Category:
        return next(c for c in self.categories if c.code == code)


class ConsentAdvisory(_Frozen):
    """Figures a planner is advised to reach where the seed sets none: shown, never enforced (a named 假设)."""

    households_threshold: Ratio | None = None
    area_threshold: Ratio | None = None
    source: Source

    @model_validator(mode="after")
    def _some_threshold(self) -> ConsentAdvisory:
        if self.households_threshold is None and self.area_threshold is None:
            raise ValueError("an advisory needs households_threshold, area_threshold or both")
        return self


class Consent(_Frozen):
    """Consent rules: thresholds as exact fractions; where both are given, both must hold (以上 includes).

    Binding thresholds (``households_threshold``, ``area_threshold``) only where the seed states them; a seed that
    asks for residents' views without a figure (Mangshi 民意调查, Jingyuan 摸清意愿, Yulin 方案公示征求意见) has
    none, and an ``advisory`` figure is shown instead, never a refusal.
    """

    rounds: tuple[StageCode, ...]
    households_threshold: Ratio | None
    area_threshold: Ratio | None
    owners_committee_required: bool
    source: Source
    advisory: ConsentAdvisory | None = None

    @model_validator(mode="after")
    def _some_threshold(self) -> Consent:
        if self.households_threshold is None and self.area_threshold is None and self.advisory is None:
            raise ValueError("give households_threshold, area_threshold, or an advisory where the seed sets none")
        return self

    @property
    def binding(self) -> bool:
        """Whether the seed sets a threshold (so falling short is refused)."""
        return self.households_threshold is not None or self.area_threshold is not None


class Publicity(_Frozen):
    """Publicity (公示) after a stage.

    ``min_working_days`` is binding only where the seed gives it; ``dates_required`` where the seed requires a
    posting at all (not where publicity is one channel among several); ``advisory_working_days`` is a named 假设
    shown where the seed gives no length.
    """

    stage: StageCode
    min_working_days: int | None
    source: Source
    dates_required: bool = True
    advisory_working_days: int | None = None
    advisory_source: Source | None = None

    @model_validator(mode="after")
    def _advisory_source(self) -> Publicity:
        if self.advisory_working_days is not None and self.advisory_source is None:
            raise ValueError("advisory_working_days needs advisory_source")
        return self


FundingKind = Literal["category_shares", "per_household", "per_household_by_building_type", "no_fixed_share"]


class Funding(_Frozen):
    """How cost splits between residents and subsidy (see geo.policy.funding for the arithmetic)."""

    kind: FundingKind
    category_shares: dict[str, Ratio] | None = None
    subsidy_cap_yuan_per_m2: int | None = None
    excluded_items: tuple[ItemCode, ...] = ()
    yuan_per_household: int | None = None
    low_income_yuan_per_household: int | None = None
    yuan_per_household_by_type: dict[Literal["unit", "other"], int] | None = None
    text: Text
    source: Source

    @model_validator(mode="after")
    def _parameters(self) -> Funding:
        needed = {
            "category_shares": ["category_shares"],
            "per_household": ["yuan_per_household"],
            "per_household_by_building_type": ["yuan_per_household_by_type"],
            "no_fixed_share": [],
        }[self.kind]
        for name in needed:
            if getattr(self, name) is None:
                raise ValueError(f"funding kind {self.kind!r} needs {name}")
        return self


class Hint(_Frozen):
    """A deadline or priority hint, shown to planners with its source."""

    code: str
    text: Text
    source: Source


class Stage(_Frozen):
    code: StageCode
    zh: str
    needs_consent: bool
    needs_publicity: bool
    needs_funds: bool
    source: Source


class Target(_Frozen):
    years: tuple[int, ...] = Field(min_length=1)
    communities: int
    source: Source


#: Default scoring weights (points out of 100) when a profile gives none: deficiencies dominate, then residents'
#: support and age. Funds readiness weighs only where a profile says so; without ``priority_items`` their 10
#: points go to ``deficiencies`` (so a profile's maximum is always 100).
DEFAULT_WEIGHTS: dict[str, int] = {
    "deficiencies": 40,
    "priority_items": 10,
    "age": 15,
    "households": 10,
    "support": 25,
    "funds": 0,
}


class Scoring(_Frozen):
    """Scoring weights; points of each factor = weight x a 0..1 measure (see geo.policy.scoring).

    ``category_weights`` default to the menu order (first category n points per item, last 1), so the categories
    a profile lists first (basic before improvement before upgrade) count most.
    """

    weights: dict[ScoringFactor, int]
    category_weights: dict[str, int] | None = None
    priority_items: tuple[ItemCode, ...] = ()
    age_full_years: int = 40
    households_full: int = 500
    source: Source = (
        "默认权重（假设，非出自政策文件） | en: default weights (geo.policy.profiles.DEFAULT_WEIGHTS); "
        "assumption, not from a seed"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_weights(cls, data: Any) -> Any:
        if isinstance(data, dict) and "weights" not in data:
            weights = dict(DEFAULT_WEIGHTS)
            if not data.get("priority_items"):
                weights["deficiencies"] += weights.pop("priority_items")
            data = {**data, "weights": weights}
        return data

    @model_validator(mode="after")
    def _sum_100(self) -> Scoring:
        total = sum(self.weights.values())
        if total != 100:
            raise ValueError(f"weights must sum to 100, not {total}")
        if self.weights.get("priority_items", 0) and not self.priority_items:
            raise ValueError("weights.priority_items needs priority_items")
        return self


class Merging(_Frozen):
    """Caps for 拆墙连片 merged units (consumed by the unit-building analysis)."""

    min_households: int
    max_households: int | None
    max_floor_area_m2: float | None
    max_cost_yuan: int | None
    gap_m: float = 15.0
    source: Source


class Profile(_Frozen):
    """One jurisdiction's renovation policy, as data."""

    id: str
    name: Text
    document: str
    seed_file: str | None
    year: int
    cutoff: Cutoff
    exclusions: Exclusions
    deficiency: DeficiencyRule
    extensions: tuple[Extension, ...]
    content: ContentMenu
    consent: Consent
    publicity: tuple[Publicity, ...]
    funding: Funding
    deadlines: tuple[Hint, ...]
    priority_hints: tuple[Hint, ...]
    stages: tuple[Stage, ...] = Field(min_length=1)
    targets: tuple[Target, ...]
    scoring: Scoring = Field(default_factory=lambda: Scoring.model_validate({}))
    merging: Merging

    @model_validator(mode="after")
    def _cross_references(self) -> Profile:
        known = {c.code for c in self.content.categories}
        codes = [s.code for s in self.stages]
        if len(set(codes)) != len(codes):
            raise ValueError("stages: a stage code appears twice")
        checks: list[tuple[str, set[str]]] = [
            ("scoring.category_weights", set(self.scoring.category_weights or {})),
            ("funding.category_shares", set(self.funding.category_shares or {})),
            *(
                (f"extensions.{e.code}", {c for cond in e.all_of + e.any_of for c in cond.categories})
                for e in self.extensions
            ),
        ]
        for where, used in checks:
            if used - known:
                raise ValueError(f"{where}: unknown category {sorted(used - known)[0]!r}")
        if self.funding.category_shares is not None and set(self.funding.category_shares) != known:
            raise ValueError(f"funding.category_shares: needs a share for each category {sorted(known)}")
        shares = {e.annual_share for e in self.extensions if e.annual_share is not None}
        if len(shares) > 1:
            raise ValueError("extensions: annual_share differs between extensions; the annual task has one share")
        for where, stage_codes in (
            ("consent.rounds", self.consent.rounds),
            ("publicity", [p.stage for p in self.publicity]),
        ):
            missing = [s for s in stage_codes if s not in codes]
            if missing:
                raise ValueError(f"{where}: stage {missing[0]!r} is not in stages")
        return self

    @property
    def annual_share(self) -> Fraction | None:
        """The share of each year's planned communities that share-capped extension admissions may take."""
        return next((e.annual_share for e in self.extensions if e.annual_share is not None), None)

    def category_weights(self) -> dict[str, int]:
        """Points per deficient item by category (explicit, or by menu order)."""
        if self.scoring.category_weights is not None:
            return dict(self.scoring.category_weights)
        cats = self.content.categories
        return {c.code: len(cats) - i for i, c in enumerate(cats)}

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def to_display(self, lang: Lang = "zh") -> str:
        """A plain-text summary for ``renewal profiles show ID``: every rule with its source."""
        en = lang == "en"

        def src(s: str) -> str:
            return f"  [{s}]"

        lines = [f"{self.name.get(lang)} ({self.id}) — {self.document}"]
        lines.append(("Cutoff: " if en else "认定年限：") + self.cutoff.describe(lang) + src(self.cutoff.source))
        ex = self.exclusions
        share = f"{float(ex.zone_overlap_share) * 100:g}%"
        for z in ex.zones:
            kind = z.kind if en else ZONE_KINDS[z.kind]
            lines.append(
                (f"Excluded zone: {kind} (> {share} of area)" if en else f"排除片区：{kind}（占面积>{share}）")
                + src(z.source)
            )
        if ex.safety_grades:
            g = "/".join(ex.safety_grades.grades)
            lines.append(
                (f"Excluded: buildings of safety grade {g}" if en else f"排除：{g}级危房")
                + src(ex.safety_grades.source)
            )
        if ex.hollow_core_slab:
            lines.append(
                ("Excluded: hollow-core slab hazards" if en else "排除：多孔板结构安全隐患")
                + src(ex.hollow_core_slab.source)
            )
        if ex.already_renovated:
            lines.append(
                ("Already renovated items: no credit" if en else "已改造内容不重复改造")
                + src(ex.already_renovated.source)
            )
        for e in self.extensions:
            lines.append(("Extension: " if en else "放宽条件：") + e.text.get(lang) + src(e.source))
            if e.annual_share is not None:
                pct = f"{float(e.annual_share) * 100:g}%"
                lines.append(
                    (
                        f"  share of each year's planned communities: at most {pct}"
                        if en
                        else f"  占年度计划小区数的比例：不超过{pct}"
                    )
                    + src(e.annual_share_source or e.source)
                )
        lines.append(("Content menu:" if en else "改造内容：") + src(self.content.source))
        for cat in self.content.categories:
            items = [DEFICIENCY_ITEMS[i][1 if en else 0] for i, p in self.content.primary().items() if p == cat.code]
            lines.append(f"  {cat.label(lang)}: {', '.join(items) if en else '、'.join(items)}" + src(cat.source))
        off = [DEFICIENCY_ITEMS[i][1 if en else 0] for i, p in self.content.primary().items() if p is None]
        if off:
            lines.append(("  Not on the menu: " if en else "  不在改造清单内：") + (", " if en else "、").join(off))
        lines.append(
            ("Not a target without a surveyed deficiency" if en else "调查无设施缺项的不属改造对象")
            + src(self.deficiency.source)
        )
        lines.append(
            ("Not surveyed yet: conditional until surveyed" if en else "未调查的小区：须先摸底调查（有条件纳入）")
            + src(self.deficiency.survey_source)
        )
        c = self.consent

        def thresholds(households: Fraction | None, area: Fraction | None) -> str:
            parts = []
            if households is not None:
                parts.append(f"households ≥ {households}" if en else f"户数≥{households}")
            if area is not None:
                parts.append(f"area ≥ {area}" if en else f"专有面积≥{area}")
            return (" and " if en else "且").join(parts)

        committee = (
            (", owners' committee required" if en else "，须成立业委会或自治小组")
            if c.owners_committee_required
            else ""
        )
        if c.binding:
            lines.append(
                ("Consent: " if en else "征求意见：")
                + thresholds(c.households_threshold, c.area_threshold)
                + committee
                + src(c.source)
            )
        else:
            none = "Consent: figures recorded, the seed sets no threshold" if en else "征求意见：记录同意数"
            lines.append(none + ("" if en else "（文件未定门槛）") + committee + src(c.source))
        if c.advisory is not None:
            lines.append(
                ("  advisory (not enforced): " if en else "  参考（不作强制）：")
                + thresholds(c.advisory.households_threshold, c.advisory.area_threshold)
                + src(c.advisory.source)
            )
        for p in self.publicity:
            if p.min_working_days is None:
                length = "no length set" if en else "未定天数"
            else:
                length = f"≥ {p.min_working_days} working days" if en else f"不少于{p.min_working_days}个工作日"
            lines.append(
                (f"Publicity after {p.stage}: {length}" if en else f"公示（{STAGES[p.stage][0]}）：{length}")
                + src(p.source)
            )
            if p.advisory_working_days is not None:
                lines.append(
                    (
                        f"  advisory (not enforced): ≥ {p.advisory_working_days} working days"
                        if en
                        else f"  参考（不作强制）：不少于{p.advisory_working_days}个工作日"
                    )
                    + src(p.advisory_source or p.source)
                )
        lines.append(("Funding: " if en else "资金：") + self.funding.text.get(lang) + src(self.funding.source))
        for title, hints in (
            (("Deadlines:" if en else "时限："), self.deadlines),
            (("Priorities:" if en else "优先："), self.priority_hints),
        ):
            if hints:
                lines.append(title)
                lines.extend(f"  {h.text.get(lang)}" + src(h.source) for h in hints)
        lines.append("Stages:" if en else "程序：")
        for i, s in enumerate(self.stages, 1):
            flags = [
                f
                for f, on in (
                    ("consent", s.needs_consent),
                    ("publicity", s.needs_publicity),
                    ("funds", s.needs_funds),
                )
                if on
            ]
            label = STAGES[s.code][1] if en else s.zh
            lines.append(f"  {i}. {s.code} {label}" + (f" ({', '.join(flags)})" if flags else "") + src(s.source))
        for t in self.targets:
            years = "–".join(str(y) for y in (t.years[0], t.years[-1])) if len(t.years) > 1 else str(t.years[0])
            lines.append(
                (f"Target {years}: {t.communities} communities" if en else f"目标 {years}年：{t.communities}个小区")
                + src(t.source)
            )
        w = ", ".join(f"{k} {v}" for k, v in self.scoring.weights.items())
        lines.append(("Scoring weights: " if en else "评分权重：") + w + src(self.scoring.source))
        m = self.merging
        lines.append(
            (
                f"Merging (拆墙连片): ≥ {m.min_households} households, gap ≤ {m.gap_m:g} m"
                if en
                else f"拆墙连片：不少于{m.min_households}户，间距≤{m.gap_m:g}米"
            )
            + src(m.source)
        )
        return "\n".join(lines)


#: Separates a source's Chinese text from its English text (``"假设：…… | en: assumption: ..."``).
SOURCE_EN_MARK = " | en: "


def source_text(source: Any, lang: str) -> str:
    """A rule's source in one language: the part before :data:`SOURCE_EN_MARK` in Chinese, after it in English.

    Sources without the mark are citations of Chinese documents and read the same in both languages.
    """
    if source is None:
        return ""
    zh, mark, en = str(source).partition(SOURCE_EN_MARK)
    return en if (mark and lang == "en") else zh


def list_profiles() -> list[str]:
    """Ids of the profiles shipped in this package (one ``*.yaml`` each): the registry."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.yaml"))


#: Characters of an unknown profile id quoted back in the error (a request may send kilobytes of anything).
_SHOWN_CHARS = 40


def _shown(value: object) -> str:
    """A short, printable form of a value a caller sent, safe to quote in a message."""
    text = str(value)
    clipped = "".join(ch if ch.isprintable() else "?" for ch in text[:_SHOWN_CHARS])
    return clipped + ("…" if len(text) > _SHOWN_CHARS else "")


def _registry_path(profile_id: str) -> Path:
    """The shipped file of a registry id; anything that is not one of `list_profiles` is not found.

    The id is compared with the registry as a plain string, never turned into a path first, so no value (a path,
    ``..``, a NUL byte, a 3,000-character string) can make this read a file outside the package or tell
    existing files from missing ones.
    """
    known = list_profiles()
    if not isinstance(profile_id, str) or profile_id not in known:
        shown = _shown(profile_id)
        raise NotFoundError(
            f"没有策略配置“{shown}”（可用：{', '.join(known)}）",
            f"No profile {shown!r} (available: {', '.join(known)})",
        )
    return PROFILE_DIR / f"{profile_id}.yaml"


def _validation_message(path: Path, exc: ValidationError) -> tuple[str, str]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        problems.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    detail = "; ".join(problems)
    return f"策略配置文件 {path.name} 有误：{detail}", f"Profile file {path.name} is invalid: {detail}"


@functools.lru_cache(maxsize=64)
def _load(path: Path, _mtime: float) -> Profile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(
            f"策略配置文件 {path.name} 不是有效的YAML：{exc}", f"Profile file {path.name} is not valid YAML: {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise DataError(f"策略配置文件 {path.name} 应为映射", f"Profile file {path.name} must hold a mapping")
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        zh, en = _validation_message(path, exc)
        raise DataError(zh, en) from exc


def load_profile(profile_id: str) -> Profile:
    """Load a shipped profile by its registry id (see `list_profiles`); never a file path.

    This is what every request and command naming ``profile`` goes through, so a value from the network can only
    ever select one of the package's own files. A file elsewhere is loaded only on purpose, with
    `load_profile_file`.

    Raises
    ------
    NotFoundError
        No such id; the message lists the valid ids.
    DataError
        The shipped file is not valid (names the file and each field path at fault).
    """
    path = _registry_path(profile_id)
    return _load(path, path.stat().st_mtime)


def load_profile_file(path: str | Path) -> Profile:
    """Load a profile from a YAML file an operator names explicitly (the CLI's ``--profile-file``).

    Raises
    ------
    NotFoundError
        The file does not exist.
    DataError
        The file is not a valid profile: the message names the file and each field path at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"找不到策略配置文件：{path}", f"Profile file not found: {path}")
    path = path.resolve()
    return _load(path, path.stat().st_mtime)
