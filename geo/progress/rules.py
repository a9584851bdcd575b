"""Progress stages: the rules a stage must meet before it is recorded, and where a project stands on its deadlines.

Everything here is pure: a community's history of stage events (as :func:`geo.progress.store.stage_history` returns
it) and a profile in, a verdict out. The rules come from the profile (stage order, consent thresholds, publicity
days, resident funds) and from its deadline file (:mod:`geo.progress.deadlines`); every refusal names the rule and its
source. Corrections are events of their own (``corrects`` points at the event they replace), so the history is
never edited and the effective history is derived from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geo.errors import ConflictError, DataError
from geo.model import STAGES
from geo.policy.profiles import Profile, Stage
from geo.progress.calendar import working_days
from geo.progress.deadlines import load_deadlines

Status = Literal["on_track", "due_soon", "overdue"]
#: A deadline this many days away or fewer makes a project ``due_soon``.
DUE_SOON_DAYS = 30

NonNegInt = Annotated[int, Field(ge=0, strict=True)]
NonNegDecimal = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]


class Evidence(BaseModel):
    """Evidence of a stage, with the field names of CONTRACT.md (API JSON, CLI options, ledger columns)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    households_agree: NonNegInt | None = None
    households_total: NonNegInt | None = None
    area_agree_m2: NonNegDecimal | None = None
    area_total_m2: NonNegDecimal | None = None
    publicity_start: dt.date | None = None
    publicity_end: dt.date | None = None
    funds_collected_yuan: NonNegInt | None = None
    funds_required_yuan: NonNegInt | None = None

    def stored(self) -> dict[str, Any]:
        """JSON-ready form kept in the store: dates as ISO text, areas as exact decimal text, no empty fields."""
        return self.model_dump(mode="json", exclude_none=True)


EVIDENCE_FIELDS = tuple(Evidence.model_fields)


def parse_evidence(evidence: Mapping[str, Any] | Evidence | None) -> Evidence:
    """Read evidence from a mapping (JSON body, CLI options, ledger row); unknown or bad fields are refused.

    Raises
    ------
    DataError
        Naming each field at fault and the allowed field names.
    """
    if isinstance(evidence, Evidence):
        return evidence
    try:
        return Evidence.model_validate({k: v for k, v in (evidence or {}).items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        allowed = ", ".join(EVIDENCE_FIELDS)
        raise DataError(
            f"证明材料字段有误：{problems}（可用字段：{allowed}）",
            f"invalid evidence: {problems} (fields: {allowed})",
        ) from exc


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def effective_events(history: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events still in force: every event that no later event corrects, in recording order."""
    corrected = {e["corrects"] for e in history if e.get("corrects") is not None}
    return [e for e in history if e["event_id"] not in corrected]


def reached_dates(profile: Profile, history: Sequence[Mapping[str, Any]]) -> dict[str, dt.date]:
    """Stage code -> the date it was (effectively) reached; a stage recorded twice counts from the later record."""
    known = {s.code for s in profile.stages}
    out: dict[str, dt.date] = {}
    for event in effective_events(history):
        if event["stage"] in known:
            out[event["stage"]] = _as_date(event["date"])
    return out


def _stage_label(profile: Profile, code: str, lang: str) -> str:
    stage = profile.stage(code)
    if lang == "en":
        return STAGES[code][1] if code in STAGES else code
    return stage.zh if stage is not None else STAGES.get(code, (code,))[0]


def _refuse(zh: str, en: str, source: str) -> ConflictError:
    return ConflictError(f"{zh}（依据：{source}）", f"{en} (rule: {source})")


def _pct(part: Fraction) -> str:
    return f"{float(part) * 100:.2f}%"


def check_stage(
    profile: Profile,
    *,
    history: Sequence[Mapping[str, Any]],
    stage: str,
    date: dt.date,
    evidence: Mapping[str, Any] | Evidence | None,
    owners_committee: bool | None = None,
) -> Evidence:
    """Check that ``stage`` may be recorded on ``date`` with ``evidence`` after ``history``; return the evidence.

    Rules, each from the profile: the stage is one of the profile's; its predecessor in the profile's order has
    been reached, on or before ``date``; a consent stage has households (and, where the profile says, exclusive
    floor area) agreeing at or above the threshold, counted exactly (exactly 2/3 passes), and where the profile
    requires an owners' committee the community is not known to lack one (``owners_committee`` False); a stage
    with publicity was posted for at least the required working days on the official calendar, first and last
    day inclusive; a stage that needs resident funds has them 100 % in hand, and resident-fund figures given at
    any later stage may not show a shortfall either.

    Parameters
    ----------
    history
        The community's stage events (``event_id``, ``stage``, ``date``, ``corrects``), corrections included;
        when checking a correction, pass the history without the event being corrected.
    owners_committee
        Whether the community has an owners' committee or self-management group (None: not known).

    Raises
    ------
    ConflictError
        The rule broken, with its source (seed document and clause).
    DataError
        Malformed evidence (unknown field, negative count, agreeing more than the total, end before start).
    """
    ev = parse_evidence(evidence)
    codes = [s.code for s in profile.stages]
    spec = profile.stage(stage)
    if spec is None:
        raise ConflictError(
            f"策略“{profile.name.zh}”没有阶段 {stage}（可用：{'、'.join(codes)}）",
            f"profile {profile.id} has no stage {stage!r} (stages: {', '.join(codes)})",
        )
    reached = reached_dates(profile, history)
    position = codes.index(stage)
    if position > 0:
        _check_predecessor(profile, spec, codes[position - 1], reached, date)
    if spec.needs_consent:
        _check_consent(profile, spec, ev, owners_committee)
    if spec.needs_publicity:
        _check_publicity(profile, spec, ev)
    funds_stage = next((s for s in profile.stages if s.needs_funds), None)
    if funds_stage is not None:
        after_funds = position >= codes.index(funds_stage.code)
        if spec.needs_funds or (after_funds and ev.funds_collected_yuan is not None):
            _check_funds(funds_stage, ev)
    return ev


def _check_predecessor(
    profile: Profile, spec: Stage, previous: str, reached: Mapping[str, dt.date], date: dt.date
) -> None:
    zh_prev, en_prev = _stage_label(profile, previous, "zh"), _stage_label(profile, previous, "en")
    source = spec.source
    if previous not in reached:
        raise _refuse(
            f"阶段顺序不符：记录“{spec.zh}”前须先完成“{zh_prev}”",
            f"stage out of order: {STAGES[spec.code][1]} needs {en_prev} recorded first",
            source,
        )
    if reached[previous] > date:
        raise _refuse(
            f"阶段顺序不符：“{spec.zh}”日期 {date.isoformat()} 早于前一阶段“{zh_prev}”的日期 "
            f"{reached[previous].isoformat()}",
            f"stage out of order: {STAGES[spec.code][1]} dated {date.isoformat()} is before {en_prev} "
            f"({reached[previous].isoformat()})",
            source,
        )


def _share(agree: Any, total: Any, *, what_zh: str, what_en: str, source: str) -> Fraction:
    if agree is None or total is None:
        raise _refuse(
            f"缺少{what_zh}：须提供同意数与总数",
            f"missing {what_en}: give both the agreeing and the total figure",
            source,
        )
    if total == 0:
        raise DataError(f"{what_zh}的总数不能为0", f"the total {what_en} cannot be 0")
    if agree > total:
        raise DataError(
            f"{what_zh}：同意数 {agree} 大于总数 {total}", f"{what_en}: agreeing {agree} exceeds total {total}"
        )
    return Fraction(agree) / Fraction(total)


def _check_consent(profile: Profile, spec: Stage, ev: Evidence, owners_committee: bool | None) -> None:
    rule = profile.consent
    label_en = STAGES[spec.code][1]
    if rule.households_threshold is not None:
        share = _share(
            ev.households_agree,
            ev.households_total,
            what_zh="同意户数",
            what_en="household consent",
            source=rule.source,
        )
        if share < rule.households_threshold:
            raise _refuse(
                f"“{spec.zh}”未达同意门槛：同意户数 {ev.households_agree}/{ev.households_total}（{_pct(share)}）"
                f"低于 {rule.households_threshold}",
                f"{label_en}: households agreeing {ev.households_agree}/{ev.households_total} ({_pct(share)}) "
                f"are below {rule.households_threshold}",
                rule.source,
            )
    if rule.area_threshold is not None:
        share = _share(
            ev.area_agree_m2, ev.area_total_m2, what_zh="同意面积", what_en="floor-area consent", source=rule.source
        )
        if share < rule.area_threshold:
            raise _refuse(
                f"“{spec.zh}”未达同意门槛：同意业主专有面积 {ev.area_agree_m2}/{ev.area_total_m2} 平方米"
                f"（{_pct(share)}）低于 {rule.area_threshold}",
                f"{label_en}: floor area agreeing {ev.area_agree_m2}/{ev.area_total_m2} m² ({_pct(share)}) "
                f"is below {rule.area_threshold}",
                rule.source,
            )
    if rule.owners_committee_required and owners_committee is False:
        raise _refuse(
            f"“{spec.zh}”须先成立业委会或自治小组，该小区登记为没有",
            f"{label_en}: an owners' committee or self-management group is required and the community has none",
            rule.source,
        )


def _check_publicity(profile: Profile, spec: Stage, ev: Evidence) -> None:
    rule = next((p for p in profile.publicity if p.stage == spec.code), None)
    source = rule.source if rule is not None else spec.source
    if ev.publicity_start is None or ev.publicity_end is None:
        raise _refuse(
            f"“{spec.zh}”须经公示：请提供公示开始和结束日期（publicity_start、publicity_end）",
            f"{STAGES[spec.code][1]} needs publicity: give publicity_start and publicity_end",
            source,
        )
    days = working_days(start=ev.publicity_start, end=ev.publicity_end)
    if rule is not None and rule.min_working_days is not None and days < rule.min_working_days:
        period = f"{ev.publicity_start.isoformat()}–{ev.publicity_end.isoformat()}"
        raise _refuse(
            f"“{spec.zh}”公示期 {period} 仅 {days} 个工作日（按国家法定节假日及调休安排计），少于 "
            f"{rule.min_working_days} 个工作日",
            f"{STAGES[spec.code][1]}: publicity {period} has {days} working days on the official calendar, "
            f"fewer than {rule.min_working_days}",
            source,
        )


def _check_funds(funds_stage: Stage, ev: Evidence) -> None:
    if ev.funds_collected_yuan is None or ev.funds_required_yuan is None:
        raise _refuse(
            "须提供居民自筹资金已筹金额（funds_collected_yuan）和应筹金额（funds_required_yuan）",
            "give funds_collected_yuan and funds_required_yuan (resident funds)",
            funds_stage.source,
        )
    if ev.funds_collected_yuan < ev.funds_required_yuan:
        share = Fraction(ev.funds_collected_yuan, ev.funds_required_yuan)
        raise _refuse(
            f"居民自筹资金未到位100%：已筹 {ev.funds_collected_yuan} 元 / 应筹 {ev.funds_required_yuan} 元"
            f"（{_pct(share)}）",
            f"resident funds are not 100 % in hand: {ev.funds_collected_yuan} of {ev.funds_required_yuan} yuan "
            f"({_pct(share)})",
            funds_stage.source,
        )


# --- deadlines -------------------------------------------------------------------------------------------------


def _furthest(codes: list[str], reached: Iterable[str]) -> int:
    return max((codes.index(c) for c in reached), default=-1)


def pressing_deadline(
    profile: Profile, *, history: Sequence[Mapping[str, Any]], plan_year: int | None
) -> tuple[dt.date, Any] | None:
    """The earliest deadline not yet met (its date and rule), or None when nothing is due or can be dated yet.

    A deadline is met once its stage or any later one has been reached (a late record still ends the wait).
    Deadlines relative to the plan year need ``plan_year``; those after another stage need that stage's date.
    """
    codes = [s.code for s in profile.stages]
    reached = reached_dates(profile, history)
    furthest = _furthest(codes, reached)
    pressing: tuple[dt.date, Any] | None = None
    for rule in load_deadlines(profile).rules:
        if furthest >= codes.index(rule.stage):
            continue
        due = rule.due_date(plan_year=plan_year, reached=reached)
        if due is None:
            continue
        if pressing is None or due < pressing[0]:
            pressing = (due, rule)
    return pressing


def project_status(
    profile: Profile,
    *,
    history: Sequence[Mapping[str, Any]],
    plan_year: int | None,
    as_of: dt.date,
    due_soon_days: int = DUE_SOON_DAYS,
    lang: str = "zh",
) -> tuple[Status, str]:
    """Where a project stands on the profile's deadlines as of ``as_of``: ``on_track``, ``due_soon`` or ``overdue``.

    Of the deadlines not yet met (:func:`pressing_deadline`), the most pressing decides: past due is ``overdue``,
    due within ``due_soon_days`` is ``due_soon``. One that cannot be dated yet does not count.

    Returns
    -------
    tuple
        The status and a sentence naming the deadline, its date and its source.
    """
    en = lang == "en"
    pressing = pressing_deadline(profile, history=history, plan_year=plan_year)
    if pressing is None:
        return "on_track", ("no pending deadline" if en else "无待完成的时限要求")
    due, rule = pressing
    days_left = (due - as_of).days
    what = (
        f"{rule.text.get(lang)} (due {due.isoformat()}; rule: {rule.source})"
        if en
        else f"{rule.text.get(lang)}（期限 {due.isoformat()}；依据：{rule.source}）"
    )
    if days_left < 0:
        return "overdue", (f"overdue by {-days_left} days: {what}" if en else f"已逾期{-days_left}天：{what}")
    if days_left <= due_soon_days:
        return "due_soon", (f"due in {days_left} days: {what}" if en else f"还剩{days_left}天到期：{what}")
    return "on_track", (
        f"next deadline in {days_left} days: {what}" if en else f"距下一时限还有{days_left}天：{what}"
    )
