"""``renewal profiles``: the policy profiles and the source of every rule."""

from __future__ import annotations

from typing import Annotated

import typer

from geo.cli._common import Lang, console, friendly

profiles_app = typer.Typer(help="政策配置 / policy profiles", invoke_without_command=True)


@profiles_app.callback()
@friendly
def profiles_list(ctx: typer.Context, lang: Lang = "zh") -> None:
    """列出政策配置 / List the policy profiles."""
    if ctx.invoked_subcommand is not None:
        return
    from geo.policy.profiles import list_profiles, load_profile

    for pid in list_profiles():
        p = load_profile(pid)
        console.print(f"{pid:16} {p.name.get(lang)}  {p.document}")


@profiles_app.command("show")
@friendly
def profiles_show(profile_id: Annotated[str, typer.Argument(help="ID")], lang: Lang = "zh") -> None:
    """显示一个政策配置及其条款来源 / Show one profile with the source of every rule."""
    from geo.policy.profiles import load_profile

    console.print(load_profile(profile_id).to_display(lang), highlight=False, markup=False)
