"""The progress ledger (台账) in the national reporting shape, and the stage-record sheet it is read back from.

The housing ministry's statistics group old-community work into 项目基本情况 (what the compounds are), 年度计划
(which year, what works, what money), 改造进展 (how far each has got, by when it must get further) and 改造效果
(what is done), counted in 小区数, 栋数, 户数, 建筑面积 and 投资. Each of those sheets has one row per compound of
the programme (planned, or with a recorded stage) and a subtotal per street. 改造进展 gives the date each stage was
reached and flags compounds past a deadline, with the deadline's clause.

A fifth sheet, 阶段记录, lists every stage record in force in the import layout (小区编号, 阶段, 日期, evidence), so
``renewal stage import 台账.xlsx`` reads the ledger back: rows already recorded are skipped, new rows are checked
and recorded. Counting conventions: a compound counts as done (改造效果) from the stage 竣工 (or, where the profile
has none, 竣工验收).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.policy.profiles import Lang, Profile
from geo.progress.rules import effective_events, project_status, reached_dates
from geo.reports.labels import PROGRESS_STATUS, STATUS, YES_NO, stage_name, word, words
from geo.reports.plan_table import plan_members
from geo.reports.xlsx import Book, Context, columns_of

#: The stage-record sheet's name (``renewal stage import`` looks for it) and its columns, in the import layout.
EVENTS_SHEET = {"zh": "阶段记录", "en": "Stage records"}
EVENT_COLUMNS: dict[str, tuple[str, str, str]] = {
    "community_id": ("小区编号", "community_id", "text"),
    "stage": ("阶段", "stage", "text"),
    "date": ("日期", "date", "date"),
    "households_agree": ("同意户数", "households_agree", "int"),
    "households_total": ("总户数", "households_total", "int"),
    "area_agree_m2": ("同意面积", "area_agree_m2", "area"),
    "area_total_m2": ("总面积", "area_total_m2", "area"),
    "publicity_start": ("公示开始", "publicity_start", "date"),
    "publicity_end": ("公示结束", "publicity_end", "date"),
    "funds_collected_yuan": ("已筹资金", "funds_collected_yuan", "yuan"),
    "funds_required_yuan": ("应筹资金", "funds_required_yuan", "yuan"),
    "note": ("备注", "note", "wrap"),
}
BASIC: dict[str, tuple[str, str, str]] = {
    "street": ("街道", "Street", "text"),
    "neighbourhood": ("社区", "Neighbourhood", "text"),
    "community_id": ("小区编号", "Community ID", "text"),
    "name": ("小区名称", "Community", "text"),
    "year_built": ("建成年份", "Year built", "year"),
    "n": ("小区数", "Communities", "count"),
    "buildings": ("栋数", "Buildings", "count"),
    "households": ("户数", "Households", "count"),
    "floor_area_m2": ("建筑面积（平方米）", "Floor area (m²)", "area"),
    "status": ("认定结果", "Status", "text"),
    "unit_id": ("改造单元", "Unit", "text"),
    "package_id": ("项目包", "Package", "text"),
}
PLAN: dict[str, tuple[str, str, str]] = {
    "street": BASIC["street"],
    "community_id": BASIC["community_id"],
    "name": BASIC["name"],
    "year": ("计划年度", "Plan year", "year"),
    "package_id": BASIC["package_id"],
    "content": ("改造内容", "Works", "wrap"),
    "n": BASIC["n"],
    "buildings": BASIC["buildings"],
    "households": BASIC["households"],
    "floor_area_m2": BASIC["floor_area_m2"],
    "cost_yuan": ("投资（元）", "Investment (yuan)", "yuan"),
    "cost_wan": ("投资（万元）", "Investment (10,000 yuan)", "wan"),
    "residents_yuan": ("居民出资（元）", "Residents (yuan)", "yuan"),
    "subsidy_yuan": ("财政补助（元）", "Subsidy (yuan)", "yuan"),
}
EFFECT: dict[str, tuple[str, str, str]] = {
    "street": BASIC["street"],
    "community_id": BASIC["community_id"],
    "name": BASIC["name"],
    "done_date": ("竣工日期", "Completed on", "date"),
    "accepted_date": ("验收日期", "Accepted on", "date"),
    "n": BASIC["n"],
    "buildings": BASIC["buildings"],
    "households": ("受益户数", "Households benefited", "count"),
    "floor_area_m2": BASIC["floor_area_m2"],
    "cost_yuan": ("完成投资（元）", "Investment done (yuan)", "yuan"),
    "cost_wan": ("完成投资（万元）", "Investment done (10,000 yuan)", "wan"),
    "content": ("改造内容", "Works", "wrap"),
}
WIDTHS = {"name": 18, "content": 40, "deadline_note": 60, "note": 30}


def programme(
    candidates: pd.DataFrame, plan_units: pd.DataFrame | None, events: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """Compounds of the programme, one row each: candidates' columns plus ``unit_id``, ``package_id``, ``year``.

    The programme is every compound the plan schedules and every compound with a stage recorded.
    """
    cands = pd.DataFrame(candidates.drop(columns=["geometry"], errors="ignore")).copy()
    cands["community_id"] = cands["community_id"].astype(str)
    cands = cands.drop(columns=["unit_id"], errors="ignore").join(plan_members(plan_units), on="community_id")
    cands["year"] = pd.to_numeric(cands["year"], errors="coerce").astype("Int64")
    recorded = {str(e["community_id"]) for e in events}
    keep = cands["year"].notna().to_numpy() | cands["community_id"].isin(recorded).to_numpy()
    rows = cands[keep].sort_values(["street", "year", "community_id"], kind="stable", na_position="last")
    return rows.reset_index(drop=True)


def _histories(events: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for e in sorted(events, key=lambda e: e["event_id"]):
        out.setdefault(str(e["community_id"]), []).append(e)
    return out


def _done_stage(profile: Profile) -> str:
    codes = [s.code for s in profile.stages]
    return next((c for c in ("completion", "acceptance") if c in codes), codes[-1])


def progress_rows(
    rows: pd.DataFrame,
    events: Sequence[Mapping[str, Any]],
    *,
    profile: Profile,
    as_of: dt.date,
    lang: Lang,
) -> pd.DataFrame:
    """Per compound: the date each stage was reached (``stage:<code>``), the current stage and its date, and the
    deadline verdict as of ``as_of`` (``deadline``, ``overdue``, ``deadline_note`` with the rule's clause)."""
    codes = [s.code for s in profile.stages]
    histories = _histories(events)
    verdicts: dict[tuple[Any, ...], tuple[str, str]] = {}
    reached_list: list[dict[str, dt.date]] = []
    status: list[str | None] = []
    notes: list[str | None] = []
    for cid, year in zip(rows["community_id"], rows["year"], strict=True):
        history = histories.get(cid, [])
        reached = reached_dates(profile, history)
        reached_list.append(reached)
        plan_year = None if pd.isna(year) else int(year)
        key = (tuple(sorted(reached.items())), plan_year)
        if key not in verdicts:
            verdicts[key] = project_status(profile, history=history, plan_year=plan_year, as_of=as_of, lang=lang)
        s, note = verdicts[key]
        status.append(s)
        notes.append(note)
    out = pd.DataFrame(index=rows.index)
    for code in codes:
        out[f"stage:{code}"] = [r.get(code) for r in reached_list]
    order = {c: i for i, c in enumerate(codes)}
    current = [max(r, key=lambda c: order.get(c, -1)) if r else None for r in reached_list]
    out["stage"] = [stage_name(c, lang, profile=profile) for c in current]
    out["stage_date"] = [r[c] if c else None for r, c in zip(reached_list, current, strict=True)]
    out["deadline"] = [word(PROGRESS_STATUS, s, lang) for s in status]
    overdue = np.array([s == "overdue" for s in status])
    out["overdue"] = [word(YES_NO, bool(o), lang) for o in overdue]
    out["overdue_n"] = overdue.astype(int)
    out["deadline_note"] = notes
    out["_position"] = [order.get(c, -1) if c else -1 for c in current]
    return out


def event_rows(events: Sequence[Mapping[str, Any]], *, profile: Profile, lang: Lang) -> pd.DataFrame:
    """Stage records in force, in the import layout, in an order that can be recorded again (stage order, then
    date): a correction replaces the record it corrects."""
    order = {s.code: i for i, s in enumerate(profile.stages)}
    live = []
    for history in _histories(events).values():
        live.extend(effective_events(history))
    live.sort(key=lambda e: (str(e["community_id"]), order.get(e["stage"], 99), str(e["date"]), e["event_id"]))
    records = []
    for e in live:
        ev = dict(e.get("evidence") or {})
        rec: dict[str, Any] = {
            "community_id": e["community_id"],
            "stage": stage_name(e["stage"], lang, profile=profile) if lang != "en" else e["stage"],
            "date": _date(e["date"]),
            "note": e.get("note"),
        }
        for key in ("households_agree", "households_total", "funds_collected_yuan", "funds_required_yuan"):
            rec[key] = ev.get(key)
        for key in ("area_agree_m2", "area_total_m2"):
            rec[key] = None if ev.get(key) is None else float(ev[key])
        for key in ("publicity_start", "publicity_end"):
            rec[key] = _date(ev.get(key))
        records.append(rec)
    return pd.DataFrame(records, columns=list(EVENT_COLUMNS))


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def write_ledger(
    path: str | Path,
    *,
    candidates: pd.DataFrame,
    plan_units: pd.DataFrame | None,
    buildings: pd.Series,
    works: pd.Series,
    events: Sequence[Mapping[str, Any]],
    profile: Profile,
    as_of: dt.date,
    context: Context,
    lang: Lang = "zh",
) -> Path:
    """Write the ledger workbook.

    Parameters
    ----------
    candidates
        The city's candidate list (:func:`geo.policy.candidates.candidate_list` columns).
    plan_units
        The plan's units (``unit_id``, ``package_id``, ``year``, ``members``), or None when there is no plan.
    buildings
        Number of buildings per community id (栋数).
    works
        改造内容 per community id (:func:`geo.reports.plan_table.works`).
    events
        Every stage event of the store (``event_id``, ``community_id``, ``stage``, ``date``, ``evidence``,
        ``corrects``, ``note``).
    as_of
        The day deadlines are judged on.
    """
    en = lang == "en"
    rows = programme(candidates, plan_units, events)
    rows["n"] = 1
    rows["buildings"] = rows["community_id"].map(buildings).fillna(0).astype(int)
    rows["content"] = rows["community_id"].map(works).astype(object)
    rows["cost_wan"] = pd.to_numeric(rows["cost_yuan"], errors="coerce") / 10_000
    rows["status"] = words(STATUS, rows["status"], lang)
    progress = progress_rows(rows, events, profile=profile, as_of=as_of, lang=lang)
    rows = pd.concat([rows, progress], axis=1)
    stage_spec = {
        f"stage:{s.code}": (f"{s.zh}日期", f"{stage_name(s.code, 'en')} on", "date") for s in profile.stages
    }
    progress_spec: dict[str, tuple[str, str, str]] = {
        "street": BASIC["street"],
        "community_id": BASIC["community_id"],
        "name": BASIC["name"],
        "year": PLAN["year"],
        "n": BASIC["n"],
        "stage": ("当前阶段", "Current stage", "text"),
        "stage_date": ("阶段日期", "Stage date", "date"),
        **stage_spec,
        "overdue": ("是否逾期", "Overdue", "text"),
        "overdue_n": ("逾期（个）", "Overdue (count)", "count"),
        "deadline": ("时限状态", "Deadline status", "text"),
        "deadline_note": ("时限说明及依据", "Deadline and its clause", "wrap"),
    }
    done_code = _done_stage(profile)
    done = rows[rows["_position"] >= [s.code for s in profile.stages].index(done_code)]
    done = done.assign(done_date=done.get(f"stage:{done_code}"), accepted_date=done.get("stage:acceptance"))
    by_street = ["street", "community_id"]
    sheets = [
        (("项目基本情况", "Projects"), BASIC, rows.sort_values(by_street, kind="stable")),
        (
            ("年度计划", "Annual plan"),
            PLAN,
            rows[rows["year"].notna()].sort_values(["street", "year", "community_id"]),
        ),
        (("改造进展", "Progress"), progress_spec, rows.sort_values(by_street, kind="stable")),
        (("改造效果", "Results"), EFFECT, done.sort_values(by_street, kind="stable")),
    ]
    city = context.city or ""
    asof = [("As of" if en else "进度截至", as_of.isoformat())]
    with Book(path, lang=lang) as book:
        for (zh, english), spec, frame in sheets:
            book.table(
                english if en else zh,
                heading=context.heading(f"{english} — {city}" if en else f"{city}城镇老旧小区{zh}台账", extra=asof),
                columns=columns_of(spec, lang, WIDTHS),
                frame=frame,
                subtotals=("street",),
                count_unit=" communities" if en else "个小区",
            )
        note = "edit or add rows, then: renewal stage import" if en else "可增补后用 renewal stage import 导入"
        book.table(
            EVENTS_SHEET["en" if en else "zh"],
            heading=context.heading(
                "Stage records (read back by renewal stage import)" if en else f"{city}城镇老旧小区改造阶段记录",
                extra=[("Note" if en else "说明", note)],
            ),
            columns=columns_of(EVENT_COLUMNS, lang, WIDTHS),
            frame=event_rows(events, profile=profile, lang=lang),
            totals=False,
        )
    return Path(path)
