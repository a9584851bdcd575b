"""Stage events in the store: record one (rule-checked), read a community's history, the current stages, a ledger.

Events are only ever inserted: a correction is a new event whose ``corrects`` names the event it replaces, so the
history shows what was recorded, when and by whom. Each write checks the rules of :mod:`geo.progress.rules`
against the history read inside the same transaction (on PostGIS the community row is locked for it), so two
clerks cannot both record a move that only one of them may make.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook
from sqlalchemy import Connection, select

from geo.errors import ConflictError, DataError, NotFoundError, RenewalError
from geo.io.normalise import text_problem
from geo.model import INT_LIMIT
from geo.policy.profiles import Profile, load_profile
from geo.progress.calendar import load_calendar
from geo.progress.dates import parse_date
from geo.progress.rules import Evidence, check_stage, effective_events, stage_code
from geo.stores import Store

#: Ledger (台账) headers -> field names; the English names are accepted too.
LEDGER_HEADERS: dict[str, str] = {
    "小区编号": "community_id",
    "阶段": "stage",
    "日期": "date",
    "同意户数": "households_agree",
    "总户数": "households_total",
    "同意面积": "area_agree_m2",
    "总面积": "area_total_m2",
    "公示开始": "publicity_start",
    "公示结束": "publicity_end",
    "已筹资金": "funds_collected_yuan",
    "应筹资金": "funds_required_yuan",
    "备注": "note",
}
_INT_FIELDS = ("households_agree", "households_total", "funds_collected_yuan", "funds_required_yuan")
_DATE_FIELDS = ("date", "publicity_start", "publicity_end")
_MAX_LEDGER_ERRORS = 200
#: A stage is recorded when it happens; a date further ahead than this is a typo (9999-12-31 would make every
#: later stage wait for it).
MAX_DAYS_AHEAD = 366


def _profile(profile: Profile | str) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def _event_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    recorded = row["recorded_at"]
    return {
        "event_id": int(row["event_id"]),
        "community_id": row["community_id"],
        "stage": row["stage"],
        "date": row["date"],
        "evidence": dict(row["evidence"] or {}),
        "corrects": None if row["corrects"] is None else int(row["corrects"]),
        "note": row["note"],
        "actor": row["actor"],
        "recorded_at": recorded.isoformat() if isinstance(recorded, dt.datetime) else recorded,
    }


def _history(store: Store, conn: Connection, community_id: str) -> list[dict[str, Any]]:
    table = store.tables["stage_events"]
    rows = conn.execute(
        select(table).where(table.c.community_id == community_id).order_by(table.c.event_id)
    ).mappings()
    return [_event_dict(r) for r in rows]


def _community(store: Store, conn: Connection, community_id: str, *, lock: bool) -> Mapping[str, Any]:
    table = store.tables["communities"]
    stmt = select(table.c.id, table.c.street, table.c.retired, table.c.merged_into, table.c.owners_committee).where(
        table.c.id == community_id
    )
    row = conn.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFoundError(f"没有编号为 {community_id} 的小区", f"no community with id {community_id!r}")
    if row["retired"]:
        raise ConflictError(
            f"小区 {community_id} 已并入 {row['merged_into']}，请对合并后的小区记录阶段",
            f"community {community_id} was merged into {row['merged_into']}; record stages on the merged one",
        )
    return row


def _check_and_insert(
    store: Store,
    conn: Connection,
    *,
    history: list[dict[str, Any]],
    community: Mapping[str, Any],
    stage: str,
    date: dt.date,
    evidence: Mapping[str, Any] | Evidence | None,
    actor: str,
    profile: Profile,
    corrects: int | None,
    note: str | None,
) -> dict[str, Any]:
    community_id = community["id"]
    _check_stage_and_date(profile, stage, date)
    basis = history
    if corrects is not None:
        target = next((e for e in history if e["event_id"] == corrects), None)
        if target is None:
            raise NotFoundError(
                f"小区 {community_id} 没有编号为 {corrects} 的阶段记录可更正",
                f"community {community_id} has no stage event {corrects} to correct",
            )
        replaced_by = next((e["event_id"] for e in history if e["corrects"] == corrects), None)
        if replaced_by is not None:
            raise ConflictError(
                f"阶段记录 {corrects} 已被记录 {replaced_by} 更正，请更正最新的记录",
                f"stage event {corrects} was already corrected by event {replaced_by}; correct the latest one",
            )
        basis = [e for e in history if e["event_id"] != corrects]
    checked = check_stage(
        profile,
        history=basis,
        stage=stage,
        date=date,
        evidence=evidence,
        owners_committee=community["owners_committee"],
        calendar=load_calendar(store, conn),
    )
    table = store.tables["stage_events"]
    values = {
        "community_id": community_id,
        "stage": stage,
        "date": date.isoformat(),
        "evidence": checked.stored(),
        "corrects": corrects,
        "note": note,
        "actor": actor,
    }
    event_id = conn.execute(table.insert().values(**values).returning(table.c.event_id)).scalar_one()
    store.note_change(conn, "stage_events", streets=[community["street"]])
    row = conn.execute(select(table).where(table.c.event_id == event_id)).mappings().one()
    return _event_dict(row)


def _check_stage_and_date(profile: Profile, stage: str, date: dt.date) -> None:
    """Refuse what no rule can judge: a stage the profile does not have (422, listing its stages), a date more than
    `MAX_DAYS_AHEAD` days from today."""
    if profile.stage(stage) is None:
        codes = [s.code for s in profile.stages]
        raise DataError(
            f"策略“{profile.name.zh}”没有阶段 {stage}（可用：{'、'.join(codes)}）",
            f"profile {profile.id} has no stage {stage!r} (stages: {', '.join(codes)})",
        )
    latest = dt.date.today() + dt.timedelta(days=MAX_DAYS_AHEAD)
    if date > latest:
        raise DataError(
            f"阶段日期 {date.isoformat()} 过于遥远（最晚 {latest.isoformat()}）：请填写阶段实际发生的日期",
            f"stage date {date.isoformat()} is too far ahead (latest {latest.isoformat()}): give the date the "
            "stage was reached",
        )


def record_stage(
    store: Store,
    *,
    community_id: str,
    stage: str,
    date: dt.date,
    evidence: Mapping[str, Any] | Evidence | None,
    actor: str,
    profile: Profile | str,
    corrects: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Record that ``community_id`` reached ``stage`` on ``date``, after checking the profile's rules.

    Parameters
    ----------
    evidence
        Fields of :class:`geo.progress.Evidence` (consent counts, publicity dates, resident funds).
    actor
        Who records it (user name), kept with the event.
    profile
        A loaded profile or its id.
    corrects
        Event id this record replaces (a correction); the rules are then checked as if that event never was.
    note
        Free text kept with the event.

    Returns
    -------
    dict
        The stored event: ``event_id``, ``community_id``, ``stage``, ``date`` (ISO), ``evidence``, ``corrects``,
        ``note``, ``actor``, ``recorded_at``.

    Raises
    ------
    NotFoundError
        Unknown community, or ``corrects`` names no event of this community.
    ConflictError
        A rule is not met (the message names it and its source), or the community was merged into another.
    DataError
        Malformed evidence.
    """
    resolved = _profile(profile)
    with store.begin() as conn:
        community = _community(store, conn, community_id, lock=True)
        return _check_and_insert(
            store,
            conn,
            history=_history(store, conn, community_id),
            community=community,
            stage=stage,
            date=date,
            evidence=evidence,
            actor=actor,
            profile=resolved,
            corrects=corrects,
            note=note,
        )


def stage_history(store: Store, community_id: str) -> list[dict[str, Any]]:
    """Every stage event of a community in recording order, each with ``effective`` (False once corrected).

    Raises
    ------
    NotFoundError
        The community does not exist and has no events.
    """
    with store.begin() as conn:
        events = _history(store, conn, community_id)
        if not events:
            _community(store, conn, community_id, lock=False)
    effective = {e["event_id"] for e in effective_events(events)}
    return [{**e, "effective": e["event_id"] in effective} for e in events]


def current_stages(store: Store) -> pd.DataFrame:
    """The latest effective stage of every community that has one: ``community_id``, ``stage``, ``date``.

    "Latest" is by stage date, then by recording order; corrected events no longer count. ``date`` holds
    ``datetime.date`` values.
    """
    table = store.tables["stage_events"]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.event_id, table.c.community_id, table.c.stage, table.c.date, table.c.corrects)
        ).all()
    events = pd.DataFrame([tuple(r) for r in rows], columns=["event_id", "community_id", "stage", "date", "corrects"])
    columns = ["community_id", "stage", "date"]
    if events.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    live = events[~events["event_id"].isin(events["corrects"].dropna().astype("int64"))]
    latest = live.sort_values(["community_id", "date", "event_id"]).groupby("community_id", sort=True).tail(1)
    out = latest[columns].reset_index(drop=True)
    out["date"] = out["date"].map(dt.date.fromisoformat).astype(object)
    return out


def stage_events(store: Store) -> list[dict[str, Any]]:
    """Every stage event of the store (corrections included), in recording order: the ledger's input."""
    table = store.tables["stage_events"]
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.event_id)).mappings().all()
    return [_event_dict(r) for r in rows]


# --- ledger (台账) import ----------------------------------------------------------------------------------------


def _cell_date(value: Any, header: str) -> dt.date | None:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise DataError(
            f"{header}“{value}”不是日期（可写作 2026-11-01、2026年11月1日、2026/11/1 或 2026.11.01）",
            f"{header} {value!r} is not a date (write 2026-11-01, 2026年11月1日, 2026/11/1 or 2026.11.01)",
        ) from exc


def _cell_int(value: Any, header: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise DataError(f"{header}“{value}”不是整数", f"{header} {value!r} is not a whole number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{header}“{value}”不是整数", f"{header} {value!r} is not a whole number") from exc
    if not number.is_integer():
        raise DataError(f"{header}“{value}”不是整数", f"{header} {value!r} is not a whole number")
    if abs(number) >= INT_LIMIT:
        raise DataError(f"{header}“{value}”超出可保存的范围", f"{header} {value!r} is out of range")
    return int(number)


def _cell_text(value: Any, header: str) -> str | None:
    """A text cell, or None when blank; refused when no store can keep it (a NUL character)."""
    if value is None:
        return None
    text = str(value)
    problem = text_problem(text)
    if problem:
        raise DataError(f"{header}{problem[0]}", f"{header} {problem[1]}")
    return text


#: Sheets a ledger's stage records may be on (the exported ledger's 阶段记录), before falling back to the first.
LEDGER_SHEETS = ("阶段记录", "Stage records")
_HEADER_SEARCH_ROWS = 10
_ID_HEADERS = {"小区编号", "community_id"}


def _ledger_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header fields and (Excel row number, {field: value}) of the stage records; blank rows skipped.

    The records are on the sheet named in :data:`LEDGER_SHEETS` (an exported ledger) or else the first sheet;
    their header is the first of the top rows that names 小区编号 (title rows above it are skipped).
    """
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not an XLSX workbook
        raise DataError(f"无法读取台账 {path.name}：{exc}", f"cannot read ledger {path.name}: {exc}") from exc
    try:
        sheet = next((book[n] for n in LEDGER_SHEETS if n in book.sheetnames), book.worksheets[0])
        rows = sheet.iter_rows(values_only=True)
        top = list(itertools.islice(rows, _HEADER_SEARCH_ROWS))
        at = next(
            (i for i, values in enumerate(top) if {str(v).strip() for v in values if v is not None} & _ID_HEADERS), 0
        )
        header: tuple[Any, ...] = top[at] if top else ()
        number = at + 1
        rows = itertools.chain(top[at + 1 :], rows)
        names = [str(h).strip() if h is not None else "" for h in header]
        fields = [LEDGER_HEADERS.get(n, n) for n in names]
        unknown = [n for n, f in zip(names, fields, strict=True) if n and f not in LEDGER_HEADERS.values()]
        if unknown:
            known = "、".join(LEDGER_HEADERS)
            raise DataError(
                f"台账 {path.name} 有无法识别的列：{'、'.join(unknown)}（可用：{known}）",
                f"ledger {path.name} has unknown columns: {', '.join(unknown)} (use: {known})",
            )
        missing = [h for h, f in list(LEDGER_HEADERS.items())[:3] if f not in fields]
        if missing:
            raise DataError(
                f"台账 {path.name} 缺少必需的列：{'、'.join(missing)}",
                f"ledger {path.name} lacks required columns: {', '.join(missing)}",
            )
        out = []
        for row_number, values in enumerate(rows, start=number + 1):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            out.append((row_number, {f: v for f, v in zip(fields, values, strict=False) if f}))
        return fields, out
    finally:
        book.close()


def _parse_ledger_row(raw: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    community_id = _cell_text(raw.get("community_id"), "小区编号")
    if community_id is None or not community_id.strip():
        raise DataError("缺少小区编号", "missing community id")
    stage = _cell_text(raw.get("stage"), "阶段")
    if stage is None or not str(stage).strip():
        raise DataError("缺少阶段", "missing stage")
    date = _cell_date(raw.get("date"), "日期")
    if date is None:
        raise DataError("缺少日期", "missing date")
    headers = {f: h for h, f in LEDGER_HEADERS.items()}
    evidence: dict[str, Any] = {}
    for field in _INT_FIELDS:
        evidence[field] = _cell_int(raw.get(field), headers[field])
    for field in ("publicity_start", "publicity_end"):
        evidence[field] = _cell_date(raw.get(field), headers[field])
    for field in ("area_agree_m2", "area_total_m2"):
        value = _cell_text(raw.get(field), headers[field])
        evidence[field] = None if value is None or not value.strip() else value
    return {
        "community_id": community_id.strip(),
        "stage": stage_code(stage, profile),
        "date": date,
        "evidence": evidence,
        "note": _cell_text(raw.get("note"), "备注"),
    }


def import_ledger(
    store: Store, path: Path, *, profile: Profile | str, actor: str, skipped: list[int] | None = None
) -> list[dict[str, Any]]:
    """Record every new row of a progress ledger (台账, XLSX), all or nothing.

    The stage records (the sheet 阶段记录 of an exported ledger, else the first sheet, below any title rows) have
    Chinese headers (小区编号, 阶段, 日期, 同意户数, 总户数, 同意面积, 总面积, 公示开始, 公示结束, 已筹资金, 应筹资金,
    optional 备注) or their English field names; 阶段 is a stage code or its Chinese name; dates may be written as
    Chinese spreadsheets do (2026年11月1日, 2026/11/1, 2026.11.01, date cells). A row whose stage and date are
    already recorded for the community (a ledger exported and read back) is skipped; the others are checked in
    order, each against the stored history plus the rows above it, exactly as :func:`record_stage` checks one.

    Parameters
    ----------
    skipped
        When given, receives the spreadsheet row numbers of the rows already recorded.

    Returns
    -------
    list of dict
        The recorded events, in ledger order.

    Raises
    ------
    DataError
        The file cannot be read, has unknown or missing columns, or any row fails; the message lists each bad
        row by its spreadsheet row number with the problem, and nothing is written.
    """
    resolved = _profile(profile)
    _fields, rows = _ledger_rows(path)
    if not rows:
        raise DataError(f"台账 {path.name} 中没有数据行", f"ledger {path.name} has no data rows")
    problems: list[tuple[int, str, str]] = []
    recorded: list[dict[str, Any]] = []
    with store.begin() as conn:
        histories: dict[str, list[dict[str, Any]]] = {}
        communities: dict[str, Mapping[str, Any]] = {}
        for number, raw in rows:
            try:
                parsed = _parse_ledger_row(raw, resolved)
                cid = parsed["community_id"]
                if cid not in communities:
                    communities[cid] = _community(store, conn, cid, lock=True)
                    histories[cid] = _history(store, conn, cid)
                if _already_recorded(histories[cid], parsed):
                    if skipped is not None:
                        skipped.append(number)
                    continue
                event = _check_and_insert(
                    store,
                    conn,
                    history=histories[cid],
                    community=communities[cid],
                    stage=parsed["stage"],
                    date=parsed["date"],
                    evidence=parsed["evidence"],
                    actor=actor,
                    profile=resolved,
                    corrects=None,
                    note=parsed["note"],
                )
            except RenewalError as exc:
                problems.append((number, exc.message("zh"), exc.message("en")))
                if len(problems) >= _MAX_LEDGER_ERRORS:
                    break
                continue
            histories[cid].append(event)
            recorded.append(event)
        if problems:
            raise _ledger_error(path, problems)
    return recorded


def _already_recorded(history: Sequence[Mapping[str, Any]], parsed: Mapping[str, Any]) -> bool:
    day = parsed["date"].isoformat()
    return any(e["stage"] == parsed["stage"] and e["date"] == day for e in effective_events(history))


def _ledger_error(path: Path, problems: Sequence[tuple[int, str, str]]) -> DataError:
    zh = "；".join(f"第{n}行：{m}" for n, m, _ in problems)
    en = "; ".join(f"row {n}: {m}" for n, _, m in problems)
    return DataError(
        f"台账 {path.name} 有 {len(problems)} 行无法导入，未写入任何记录。{zh}",
        f"ledger {path.name}: {len(problems)} rows cannot be imported; nothing was written. {en}",
        rows=[n for n, _, _ in problems],
    )
