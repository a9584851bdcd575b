"""Progress stages: the rules a stage must meet before it is recorded, and where a project stands on its deadlines.

Everything here is pure: a community's history of stage events (as :func:`geo.progress.store.stage_history` returns
it) and a profile in, a verdict out. The rules come from the profile (stage order, consent thresholds, publicity
days, resident funds) and from its deadline file (:mod:`geo.progress.deadlines`); every refusal names the rule and its
source, and only a rule the seed states refuses. Where a seed sets no figure (Mangshi, Jingyuan and Yulin set no
consent threshold, Yulin no publicity length) the figures are recorded and :func:`stage_advisories` compares them
with the profile's advisory figure, a named 假设, without refusing. Corrections are events of their own
(``corrects`` points at the event they replace), so the history is never edited and the effective history is
derived from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from geo.errors import ConflictError, DataError
from geo.model import STAGES
from geo.policy.profiles import Profile, Stage, source_text
from geo.progress.calendar import WorkCalendar, check_period, working_days
from geo.progress.deadlines import DeadlineRule, load_deadlines

Status = Literal["on_track", "due_soon", "overdue"]
DeadlineStatus = Literal["met", "on_track", "due_soon", "overdue", "undated"]
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


def stage_code(value: Any, profile: Profile) -> str:
    """A stage code from a code, the profile's Chinese stage name or the common Chinese name (as ledgers write it).

    Raises
    ------
    DataError
        The text names no stage.
    """
    text = str(value).strip()
    if text in STAGES:
        return text
    by_name = {s.zh: s.code for s in profile.stages} | {zh: code for code, (zh, _en) in STAGES.items()}
    if text in by_name:
        return by_name[text]
    names = "、".join(f"{s.zh}（{s.code}）" for s in profile.stages)
    raise DataError(
        f"无法识别的阶段“{text}”（可用：{names}）",
        f"unknown stage {text!r} (stages: {', '.join(s.code for s in profile.stages)})",
    )


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
    return ConflictError(f"{zh}（依据：{source_text(source, 'zh')}）", f"{en} (rule: {source_text(source, 'en')})")


def _pct(part: Fraction) -> str:
    """A share as a percentage truncated (never rounded up) to 0.01 %, so a shortfall never reads as 100 %."""
    hundredths = part.numerator * 10_000 // part.denominator
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def check_stage(
    profile: Profile,
    *,
    history: Sequence[Mapping[str, Any]],
    stage: str,
    date: dt.date,
    evidence: Mapping[str, Any] | Evidence | None,
    owners_committee: bool | None = None,
    calendar: WorkCalendar | None = None,
) -> Evidence:
    """Check that ``stage`` may be recorded on ``date`` with ``evidence`` after ``history``; return the evidence.

    Rules, each from the profile: the stage is one of the profile's; its predecessor in the profile's order has
    been reached, on or before ``date``; a consent stage has households (and, where the profile says, exclusive
    floor area) agreeing at or above the seed's threshold, counted exactly (exactly 2/3 passes) — where the seed
    sets no threshold nothing is refused (see :func:`stage_advisories`) — and where the profile requires an
    owners' committee the community is recorded as having one (unknown is not proof); a stage with publicity was
    posted for at least the seed's working days on the official calendar, first and last day inclusive (dates
    are required only where the seed requires a posting); a stage that needs resident funds has them 100 % in
    hand, and resident-fund figures given at any later stage may not show a shortfall either.

    Parameters
    ----------
    history
        The community's stage events (``event_id``, ``stage``, ``date``, ``corrects``), corrections included;
        when checking a correction, pass the history without the event being corrected.
    owners_committee
        Whether the community has an owners' committee or self-management group (None: not recorded, which
        does not pass where the profile requires one).
    calendar
        The official calendar with the years the store holds (default: the bundled years); consulted only when
        the stage's publicity rule counts working days.

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
        _check_publicity(profile, spec, ev, calendar)
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
    _consistent(agree, total, what_zh=what_zh, what_en=what_en)
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
    if not rule.binding:
        # Figures are recorded as given; they must still be consistent (agreeing no more than the total).
        _consistent(ev.households_agree, ev.households_total, what_zh="同意户数", what_en="household consent")
        _consistent(ev.area_agree_m2, ev.area_total_m2, what_zh="同意面积", what_en="floor-area consent")
    if rule.owners_committee_required and owners_committee is not True:
        state_zh = "登记为没有" if owners_committee is False else "尚无记录（未登记不视为已成立）"
        state_en = "has none" if owners_committee is False else "has no record of one (unknown is not proof)"
        raise _refuse(
            f"“{spec.zh}”须先成立业委会或自治小组，该小区{state_zh}",
            f"{label_en}: an owners' committee or self-management group is required and the community {state_en}",
            rule.source,
        )


def _consistent(agree: Any, total: Any, *, what_zh: str, what_en: str) -> None:
    if agree is None or total is None:
        return
    if total == 0:
        raise DataError(f"{what_zh}的总数不能为0", f"the total {what_en} cannot be 0")
    if agree > total:
        raise DataError(
            f"{what_zh}：同意数 {agree} 大于总数 {total}", f"{what_en}: agreeing {agree} exceeds total {total}"
        )


def _check_publicity(profile: Profile, spec: Stage, ev: Evidence, calendar: WorkCalendar | None) -> None:
    rule = next((p for p in profile.publicity if p.stage == spec.code), None)
    source = rule.source if rule is not None else spec.source
    if ev.publicity_start is None or ev.publicity_end is None:
        if rule is not None and not rule.dates_required:
            return
        raise _refuse(
            f"“{spec.zh}”须经公示：请提供公示开始和结束日期（publicity_start、publicity_end）",
            f"{STAGES[spec.code][1]} needs publicity: give publicity_start and publicity_end",
            source,
        )
    check_period(start=ev.publicity_start, end=ev.publicity_end)
    if rule is None or rule.min_working_days is None:
        return  # the seed sets no length: nothing to count, no calendar needed
    days = working_days(start=ev.publicity_start, end=ev.publicity_end, calendar=calendar)
    if days < rule.min_working_days:
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
        short = ev.funds_required_yuan - ev.funds_collected_yuan
        raise _refuse(
            f"居民自筹资金未到位100%：已筹 {ev.funds_collected_yuan} 元 / 应筹 {ev.funds_required_yuan} 元，"
            f"尚差 {short} 元（到位 {_pct(share)}）",
            f"resident funds are not 100 % in hand: {ev.funds_collected_yuan} of {ev.funds_required_yuan} yuan, "
            f"{short} yuan short ({_pct(share)})",
            funds_stage.source,
        )


# --- advisories (figures the seed does not set) ----------------------------------------------------------------


def stage_advisories(
    profile: Profile, *, stage: str, evidence: Mapping[str, Any] | Evidence | None, lang: str = "zh"
) -> list[str]:
    """Advice on a stage where the seed sets no figure: consent below the advisory threshold, publicity shorter
    than the advisory length, or no figures recorded. Never a refusal; each line names its 假设 and source.

    Returns
    -------
    list of str
        Plain sentences in ``lang`` (empty when the stage has no advisory rule or the figures meet it).
    """
    en = lang == "en"
    ev = parse_evidence(evidence)
    spec = profile.stage(stage)
    if spec is None:
        return []
    label = _stage_label(profile, stage, lang)
    out: list[str] = []
    advice = profile.consent.advisory
    if spec.needs_consent and advice is not None:
        cite = source_text(advice.source, lang)
        for threshold, agree, total, zh_what, en_what, unit in (
            (advice.households_threshold, ev.households_agree, ev.households_total, "同意户数", "households", ""),
            (advice.area_threshold, ev.area_agree_m2, ev.area_total_m2, "同意面积", "floor area", " m²"),
        ):
            if threshold is None:
                continue
            if agree is None or total is None or total == 0:
                out.append(
                    f"advice: {label} has no {en_what} consent figures recorded; the advisory figure is "
                    f"{threshold} (not enforced; {cite})"
                    if en
                    else f"提示：“{label}”未记录{zh_what}，参考门槛为 {threshold}（不作强制；{cite}）"
                )
                continue
            share = Fraction(agree) / Fraction(total)
            if share < threshold:
                out.append(
                    f"advice: {label} {en_what} agreeing {agree}/{total}{unit} ({_pct(share)}) are below the "
                    f"advisory {threshold}; recorded, not refused ({cite})"
                    if en
                    else f"提示：“{label}”{zh_what} {agree}/{total}{unit}（{_pct(share)}）低于参考门槛 {threshold}；"
                    f"已记录，不作拒绝（{cite}）"
                )
    rule = next((p for p in profile.publicity if p.stage == stage), None)
    if spec.needs_publicity and rule is not None and rule.advisory_working_days is not None:
        source = source_text(rule.advisory_source or rule.source, lang)
        days_needed = rule.advisory_working_days
        if ev.publicity_start is None or ev.publicity_end is None:
            out.append(
                f"advice: no publicity dates recorded for {label}; publicity of at least {days_needed} working "
                f"days is advised (not enforced; {source})"
                if en
                else f"提示：“{label}”未记录公示日期，建议公示不少于{days_needed}个工作日（不作强制；{source}）"
            )
        else:
            try:
                days = working_days(start=ev.publicity_start, end=ev.publicity_end)
            except DataError as exc:
                out.append(
                    f"advice: the publicity period of {label} cannot be counted ({exc.message('en')})"
                    if en
                    else f"提示：“{label}”的公示期无法计算工作日（{exc.message('zh')}）"
                )
            else:
                if days < days_needed:
                    out.append(
                        f"advice: {label} publicity has {days} working days, fewer than the advisory "
                        f"{days_needed}; recorded, not refused ({source})"
                        if en
                        else f"提示：“{label}”公示 {days} 个工作日，少于参考的{days_needed}个工作日；已记录，不作拒绝"
                        f"（{source}）"
                    )
    return out


# --- deadlines -------------------------------------------------------------------------------------------------


def _furthest(codes: list[str], reached: Iterable[str]) -> int:
    return max((codes.index(c) for c in reached), default=-1)


_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "met": ("已完成", "done"),
    "on_track": ("正常", "on track"),
    "due_soon": ("即将到期", "due soon"),
    "overdue": ("已逾期", "overdue"),
    "undated": ("日期待定", "not dated yet"),
}


@dataclass(frozen=True)
class DeadlineState:
    """One deadline rule of a community as of a day: its due date, whether it is met, and how pressing it is."""

    rule: DeadlineRule
    due: dt.date | None
    status: DeadlineStatus
    days_left: int | None
    reached: dt.date | None

    def line(self, profile: Profile, lang: str = "zh") -> str:
        """A readable line: status, due date, what is due, the stage it tracks and the clause."""
        en = lang == "en"
        label = _STATUS_LABELS[self.status][1 if en else 0]
        due = self.due.isoformat() if self.due is not None else ("—" if en else "待定")
        stage = _stage_label(profile, self.rule.stage, lang)
        if self.status == "met" and self.reached is not None:
            late = (self.reached - self.due).days if self.due is not None and self.reached > self.due else 0
            if en:
                when = f"reached {self.reached.isoformat()}" + (f", {late} days late" if late else "")
            else:
                when = f"{self.reached.isoformat()}完成" + (f"，晚于期限{late}天" if late else "")
            label = f"{label} ({when})" if en else f"{label}（{when}）"
        elif self.status == "overdue":
            label = f"{label} {-self.days_left} days" if en else f"{label}{-self.days_left}天"
        elif self.status in ("on_track", "due_soon"):
            label = f"{label}, {self.days_left} days left" if en else f"{label}，还剩{self.days_left}天"
        elif self.status == "undated" and self.rule.due is not None:
            label += " (needs the plan year)" if en else "（需计划年度）"
        source = source_text(self.rule.source, lang)
        if en:
            return f"[{label}] due {due}: {self.rule.text.get(lang)} (stage: {stage}; rule: {source})"
        return f"[{label}] 期限 {due}：{self.rule.text.get(lang)}（阶段：{stage}；依据：{source}）"


def deadline_states(
    profile: Profile,
    *,
    history: Sequence[Mapping[str, Any]],
    plan_year: int | None,
    as_of: dt.date,
    due_soon_days: int = DUE_SOON_DAYS,
) -> list[DeadlineState]:
    """Every deadline of the profile for one community as of ``as_of``, in the profile's stage order.

    A deadline is met once its stage or any later one has been reached (a late record still ends the wait; the
    line says how late). Of those not met: past due is ``overdue``, due within ``due_soon_days`` ``due_soon``,
    else ``on_track``; one that cannot be dated yet (no plan year, anchor stage not reached) is ``undated``.
    """
    codes = [s.code for s in profile.stages]
    reached = reached_dates(profile, history)
    furthest = _furthest(codes, reached)
    states: list[DeadlineState] = []
    rules = sorted(load_deadlines(profile).rules, key=lambda r: codes.index(r.stage))
    for rule in rules:
        due = rule.due_date(plan_year=plan_year, reached=reached)
        position = codes.index(rule.stage)
        if furthest >= position:
            later = [d for c, d in reached.items() if codes.index(c) >= position]
            when = reached.get(rule.stage, min(later) if later else None)
            states.append(DeadlineState(rule, due, "met", None, when))
            continue
        if due is None:
            states.append(DeadlineState(rule, None, "undated", None, None))
            continue
        left = (due - as_of).days
        status: DeadlineStatus = "overdue" if left < 0 else "due_soon" if left <= due_soon_days else "on_track"
        states.append(DeadlineState(rule, due, status, left, None))
    return states


def pressing_deadline(
    profile: Profile, *, history: Sequence[Mapping[str, Any]], plan_year: int | None
) -> tuple[dt.date, DeadlineRule] | None:
    """The earliest deadline not yet met (its date and rule), or None when nothing is due or can be dated yet."""
    pending = [
        s
        for s in deadline_states(profile, history=history, plan_year=plan_year, as_of=dt.date.today())
        if s.status not in ("met", "undated")
    ]
    if not pending:
        return None
    state = min(pending, key=lambda s: s.due)
    return state.due, state.rule


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

    Of the deadlines not yet met (see :func:`deadline_states`), the most pressing (earliest due) decides.

    Returns
    -------
    tuple
        The status and a sentence naming the deadline, its date and its source.
    """
    en = lang == "en"
    pending = [
        s
        for s in deadline_states(
            profile, history=history, plan_year=plan_year, as_of=as_of, due_soon_days=due_soon_days
        )
        if s.status in ("on_track", "due_soon", "overdue")
    ]
    if not pending:
        return "on_track", ("no pending deadline" if en else "无待完成的时限要求")
    state = min(pending, key=lambda s: s.due)
    rule, due, days_left = state.rule, state.due, state.days_left
    what = (
        f"{rule.text.get(lang)} (due {due.isoformat()}; rule: {source_text(rule.source, lang)})"
        if en
        else f"{rule.text.get(lang)}（期限 {due.isoformat()}；依据：{source_text(rule.source, lang)}）"
    )
    if state.status == "overdue":
        return "overdue", (f"overdue by {-days_left} days: {what}" if en else f"已逾期{-days_left}天：{what}")
    if state.status == "due_soon":
        return "due_soon", (f"due in {days_left} days: {what}" if en else f"还剩{days_left}天到期：{what}")
    return "on_track", (
        f"next deadline in {days_left} days: {what}" if en else f"距下一时限还有{days_left}天：{what}"
    )


# --- readable history ------------------------------------------------------------------------------------------


def evidence_text(evidence: Mapping[str, Any] | None, lang: str = "zh") -> str:
    """Stage evidence as a short readable phrase (consent counts, publicity period, resident funds)."""
    ev = dict(evidence or {})
    en = lang == "en"
    parts = []
    if "households_agree" in ev or "households_total" in ev:
        pair = f"{ev.get('households_agree', '?')}/{ev.get('households_total', '?')}"
        parts.append(f"households agreeing {pair}" if en else f"同意户数 {pair}")
    if "area_agree_m2" in ev or "area_total_m2" in ev:
        pair = f"{ev.get('area_agree_m2', '?')}/{ev.get('area_total_m2', '?')}"
        parts.append(f"floor area agreeing {pair} m²" if en else f"同意面积 {pair} 平方米")
    if "publicity_start" in ev or "publicity_end" in ev:
        start, end = ev.get("publicity_start", "?"), ev.get("publicity_end", "?")
        parts.append(f"publicity {start} to {end}" if en else f"公示 {start} 至 {end}")
    if "funds_collected_yuan" in ev or "funds_required_yuan" in ev:
        got, due = ev.get("funds_collected_yuan", "?"), ev.get("funds_required_yuan", "?")
        parts.append(f"resident funds {got} of {due} yuan" if en else f"居民资金 已筹 {got} 元 / 应筹 {due} 元")
    return ("; " if en else "；").join(parts)


def history_lines(profile: Profile, history: Sequence[Mapping[str, Any]], lang: str = "zh") -> list[str]:
    """Each stage event as a readable line: number, date, stage name (and code), evidence, corrections, note."""
    en = lang == "en"
    lines = []
    for e in history:
        label = _stage_label(profile, e["stage"], lang)
        parts = [f"#{e['event_id']}", str(e["date"]), f"{label} ({e['stage']})" if en else f"{label}（{e['stage']}）"]
        if e.get("corrects"):
            parts.append(f"corrects #{e['corrects']}" if en else f"更正 #{e['corrects']}")
        if not e.get("effective", True):
            parts.append("[corrected, no longer in force]" if en else "［已被更正，不再有效］")
        text = evidence_text(e.get("evidence"), lang)
        if text:
            parts.append(text)
        if e.get("note"):
            parts.append(f"note: {e['note']}" if en else f"备注：{e['note']}")
        if e.get("actor"):
            parts.append(f"by {e['actor']}" if en else f"记录人 {e['actor']}")
        lines.append("  ".join(parts))
    return lines
