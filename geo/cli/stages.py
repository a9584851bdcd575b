"""``renewal stage``: record and show project stages, import the ledger (台账)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli._common import Lang, ProfileOpt, console, friendly, resolve_profile

stage_app = typer.Typer(help="改造进度 / project stages", no_args_is_help=True)


@stage_app.command("set")
@friendly
def stage_set(
    community_id: Annotated[str, typer.Argument(help="小区编号 / community id")],
    stage: Annotated[
        str, typer.Argument(help="survey|consent_1|annual_plan|design|consent_2|funds_ready|tender|...")
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
    lang: Lang = "zh",
) -> None:
    """记录一个阶段（不符合规则则拒绝并说明依据）/ Record a stage; refused with the rule and its source."""
    import datetime as dt

    from geo.errors import DataError
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
    event = record_stage(
        open_store(),
        community_id=community_id,
        stage=stage,
        date=day,
        evidence=evidence,
        actor=actor,
        profile=resolve_profile(profile),
        corrects=corrects,
        note=note,
    )
    console.print(f"{'recorded' if lang == 'en' else '已记录'}: #{event['event_id']} {community_id} {stage} {date}")


@stage_app.command("show")
@friendly
def stage_show(
    community_id: Annotated[str, typer.Argument(help="小区编号 / community id")],
    lang: Lang = "zh",
) -> None:
    """阶段记录（含更正）/ Stage history, corrections included."""
    from geo.progress.store import stage_history
    from geo.stores import open_store

    for e in stage_history(open_store(), community_id):
        flag = "" if e.get("effective", True) else (" (corrected)" if lang == "en" else "（已更正）")
        fix = f" corrects #{e['corrects']}" if e.get("corrects") else ""
        console.print(f"#{e['event_id']} {e['date']} {e['stage']}{fix}{flag} {e.get('evidence') or ''}")


@stage_app.command("import")
@friendly
def stage_import(
    path: Annotated[Path, typer.Argument(help="台账 XLSX / ledger")],
    actor: Annotated[str, typer.Option("--actor")] = "cli",
    profile: ProfileOpt = None,
) -> None:
    """从台账批量更新进度（全部成功或全部不写入）/ Bulk update from an XLSX ledger, all or nothing."""
    from geo.progress.store import import_ledger
    from geo.stores import open_store

    skipped: list[int] = []
    events = import_ledger(open_store(), path, profile=resolve_profile(profile), actor=actor, skipped=skipped)
    console.print(
        f"已记录 {len(events)} 条，已有记录跳过 {len(skipped)} 行 / "
        f"{len(events)} recorded, {len(skipped)} already recorded"
    )
