"""What every command shares: the consoles, friendly errors (exit 2, no traceback), common options."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
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


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a RenewalError into its message and exit code 2 (no traceback for bad input)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RenewalError as exc:
            lang = kwargs.get("lang") or policy_settings().lang
            err_console.print(f"[bold red]错误 / error:[/] {exc.message(lang)}", soft_wrap=True)
            raise typer.Exit(code=2) from None

    return wrapper


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


def resolve_profile(profile: str | None, *, lang: str | None = None):  # noqa: ANN202 - a Profile, imported lazily
    """The profile named by ``--profile``, else the one in force (``RENEWAL_PROFILE``, default national-2020);
    a fallback is said on stderr, so nobody reads a list made under a policy they did not choose."""
    from geo.policy.profiles import load_profile

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
