"""What every command shares: the consoles, friendly errors (exit 2, no traceback), common options."""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from geo.errors import RenewalError
from geo.settings import policy_settings

console = Console()
err_console = Console(stderr=True)

Lang = Annotated[str, typer.Option("--lang", help="输出语言 zh|en / output language")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="政策配置 / policy profile (RENEWAL_PROFILE)")]
ProfileFileOpt = Annotated[
    Path | None,
    typer.Option("--profile-file", help="从 YAML 文件读取政策配置 / load the policy profile from a YAML file"),
]
PlanOpt = Annotated[
    int | None, typer.Option("--plan", help="规划编号（默认该政策最近保存的规划）/ saved plan number")
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="截至日期，如 2026-11-01 或 2026年11月1日（默认今天）/ deadlines judged on (today)"),
]


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a RenewalError, or the database going away, into a message and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        lang = kwargs.get("lang") or policy_settings().lang
        try:
            return func(*args, **kwargs)
        except RenewalError as exc:
            err_console.print(f"[bold red]错误 / error:[/] {exc.message(lang)}", soft_wrap=True)
            raise typer.Exit(code=2) from None
        except Exception as exc:
            if not _database_lost(exc):
                raise
            err_console.print(f"[bold red]错误 / error:[/] {_lost_message(exc, lang)}", soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


def _database_lost(exc: BaseException) -> bool:
    """The database refused or dropped the connection (a restart, a failover, a network cut), as SQLAlchemy or,
    for PostGIS's COPY on the raw cursor, psycopg2 reports it."""
    from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    try:
        import psycopg2
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        return False
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError)


def _lost_message(exc: BaseException, lang: str) -> str:
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if lang == "en":
        return (
            f"the database connection failed or was lost ({reason}); the command did not finish. An import is all "
            "or nothing: check the database (RENEWAL_DATABASE_URL) and run the command again."
        )
    return (
        f"数据库连接失败或中断（{reason}），命令未完成。导入要么全部写入、要么不写："
        "请检查数据库（RENEWAL_DATABASE_URL）后重新运行。"
    )


def progress_bar(total: int) -> Callable[[int, int], None]:
    bar = Progress(
        TextColumn("导入 / importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task("import", total=total)
    bar.start()

    def tick(done: int, total_: int) -> None:
        bar.update(task, completed=done)
        if done >= total_:
            bar.stop()

    return tick


def as_of_day(text: str | None) -> dt.date:
    """The day ``--as-of`` names, in any form a Chinese spreadsheet writes dates (2026-11-01, 2026年11月1日,
    2026/11/1); today when it is not given."""
    from geo.errors import DataError
    from geo.progress.dates import parse_date

    try:
        return parse_date(text) or dt.date.today()
    except ValueError as exc:
        raise DataError(
            f"--as-of 不是日期：{text}（可写作 2026-11-01 或 2026年11月1日）",
            f"--as-of is not a date: {text} (write 2026-11-01)",
        ) from exc


def user_name() -> str:
    """Who runs the command (the system login), recorded as the actor of what it writes."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without /etc/passwd entry)
        return "cli"


def resolve_profile(profile: str | None, profile_file: Path | None = None, *, lang: str | None = None):  # noqa: ANN202 - a Profile, imported lazily
    """The profile a command runs under: ``--profile-file`` (a YAML file, named on purpose), else ``--profile``,
    else the one in force (``RENEWAL_PROFILE``, default national-2020, a registry id never read as a path); a
    fallback is said on stderr, so nobody reads a list made under a policy they did not choose."""
    from geo.policy.profiles import load_profile, load_profile_file

    if profile_file is not None:
        if profile is not None:
            raise RenewalError("--profile 与 --profile-file 只能二选一", "give --profile or --profile-file, not both")
        return load_profile_file(profile_file)
    if profile:
        return load_profile(profile)
    settings = policy_settings()
    loaded = load_profile(settings.profile)
    source = (
        "RENEWAL_PROFILE"
        if "RENEWAL_PROFILE" in os.environ
        else ("default" if (lang or settings.lang) == "en" else "默认")
    )
    if (lang or settings.lang) == "en":
        err_console.print(f"No --profile given: using {loaded.id} ({loaded.name.en}; {source})", soft_wrap=True)
    else:
        err_console.print(f"未指定 --profile，使用政策配置 {loaded.id}（{loaded.name.zh}；{source}）", soft_wrap=True)
    return loaded
