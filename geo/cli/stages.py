"""``renewal stage``: record and show project stages, import the ledger (台账)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import (
    AsOfOpt,
    Lang,
    ProfileFileOpt,
    ProfileOpt,
    as_of_day,
    console,
    friendly,
    resolve_profile,
)

stage_app = typer.Typer(help="改造进度 / project stages", no_args_is_help=True)


@stage_app.command("set")
@friendly
def stage_set(
    community_id: Annotated[str, typer.Argument(help="小区编号 / community id")],
    stage: Annotated[
        str,
        typer.Argument(
            help="阶段代码或中文名称（如 consent_1、第一次征求意见、调查摸底）/ stage code or its Chinese name: "
            "survey|consent_1|annual_plan|design|consent_2|funds_ready|tender|..."
        ),
    ],
    date: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    households_agree: Annotated[int | None, typer.Option("--households-agree")] = None,
    households_total: Annotated[int | None, typer.Option("--households-total")] = None,
    area_agree_m2: Annotated[float | None, typer.Option("--area-agree-m2")] = None,
    area_total_m2: Annotated[float | None, typer.Option("--area-total-m2")] = None,
    publicity_start: Annotated[str | None, typer.Option("--publicity-start", help="YYYY-MM-DD")] = None,
    publicity_end: Annotated[str | None, typer.Option("--publicity-end", help="YYYY-MM-DD")] = None,
    funds_collected_yuan: Annotated[int | None, typer.Option("--funds-collected-yuan")] = None,
    funds_required_yuan: Annotated[int | None, typer.Option("--funds-required-yuan")] = None,
    corrects: Annotated[int | None, typer.Option("--corrects", help="更正的事件号 / event id corrected")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    actor: Annotated[str, typer.Option("--actor", help="记录人 / who records it")] = "cli",
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    lang: Lang = "zh",
) -> None:
    """记录一个阶段（不符合规则则拒绝并说明依据）/ Record a stage; refused with the rule and its source.

    Where the policy sets no figure (e.g. no consent threshold) the figures are recorded and an advisory is printed.
    """
    import datetime as dt

    from geo.errors import DataError
    from geo.progress.rules import stage_advisories, stage_code
    from geo.progress.store import record_stage
    from geo.stores import open_store

    evidence = {
        k: v
        for k, v in {
            "households_agree": households_agree,
            "households_total": households_total,
            "area_agree_m2": area_agree_m2,
            "area_total_m2": area_total_m2,
            "publicity_start": publicity_start,
            "publicity_end": publicity_end,
            "funds_collected_yuan": funds_collected_yuan,
            "funds_required_yuan": funds_required_yuan,
        }.items()
        if v is not None
    }
    try:
        day = dt.date.fromisoformat(date)
    except ValueError as exc:
        raise DataError(f"日期格式应为 YYYY-MM-DD：{date}", f"date must be YYYY-MM-DD: {date}") from exc
    prof = resolve_profile(profile, profile_file)
    code = stage_code(stage, prof)
    event = record_stage(
        open_store(),
        community_id=community_id,
        stage=code,
        date=day,
        evidence=evidence,
        actor=actor,
        profile=prof,
        corrects=corrects,
        note=note,
    )
    label = prof.stage(code).zh if lang != "en" else code
    console.print(f"{'recorded' if lang == 'en' else '已记录'}: #{event['event_id']} {community_id} {label} {date}")
    for line in stage_advisories(prof, stage=code, evidence=event["evidence"], lang=lang):
        console.print(line, soft_wrap=True, markup=False, highlight=False)


@stage_app.command("show")
@friendly
def stage_show(
    community_id: Annotated[str, typer.Argument(help="小区编号 / community id")],
    profile: ProfileOpt = None,
    plan_year: Annotated[
        int | None,
        typer.Option(
            "--plan-year", help="计划年度（默认取该政策最新保存的计划）/ plan year (default: latest saved plan)"
        ),
    ] = None,
    as_of: AsOfOpt = None,
    lang: Lang = "zh",
) -> None:
    """阶段记录（含更正）与各项时限及状态 / Stage history (corrections included), deadlines and their status."""
    from geo.analysis import plan_year_of
    from geo.progress.rules import deadline_states, history_lines
    from geo.progress.store import stage_history
    from geo.stores import open_store

    en = lang == "en"
    day = as_of_day(as_of)
    prof = resolve_profile(profile)
    store = open_store()
    history = stage_history(store, community_id)
    year = plan_year if plan_year is not None else plan_year_of(store, community_id=community_id, profile=prof.id)
    if year is None:
        year_note = (
            "plan year: none (no saved plan schedules it; give --plan-year)"
            if en
            else "计划年度：无（尚无已保存的计划安排它，可用 --plan-year 指定）"
        )
    else:
        year_note = f"plan year: {year}" if en else f"计划年度：{year}"
    out = [f"{community_id} — {prof.name.get(lang)} ({prof.id}); {year_note}"]
    out.append("Stage history:" if en else "阶段记录：")
    out += [f"  {line}" for line in history_lines(prof, history, lang)] or ["  —"]
    states = deadline_states(prof, history=history, plan_year=year, as_of=day)
    out.append(f"Deadlines as of {day.isoformat()}:" if en else f"时限（截至 {day.isoformat()}）：")
    out += [f"  {s.line(prof, lang)}" for s in states] or [
        "  none: the policy sets no stage deadlines" if en else "  无：该政策未规定阶段时限"
    ]
    for line in out:
        console.print(line, soft_wrap=True, markup=False, highlight=False)


@stage_app.command("import")
@friendly
def stage_import(
    path: Annotated[Path, typer.Argument(help="台账 XLSX / ledger")],
    actor: Annotated[str, typer.Option("--actor")] = "cli",
    profile: ProfileOpt = None,
    profile_file: ProfileFileOpt = None,
    lang: Lang = "zh",
) -> None:
    """从台账批量更新进度（全部成功或全部不写入）/ Bulk update from an XLSX ledger, all or nothing."""
    from geo.progress.store import import_ledger
    from geo.stores import open_store

    skipped: list[int] = []
    events = import_ledger(
        open_store(), path, profile=resolve_profile(profile, profile_file), actor=actor, skipped=skipped
    )
    console.print(
        f"已记录 {len(events)} 条，已有记录跳过 {len(skipped)} 行 / "
        f"{len(events)} recorded, {len(skipped)} already recorded"
    )
