"""``renewal share``: read-only links to a map page that leaders open without a token (``/s/SECRET``)."""

from __future__ import annotations

from typing import Annotated

import typer

from geo.cli._common import Lang, PlanOpt, ProfileOpt, console, err_console, friendly, user_name

share_app = typer.Typer(help="分享链接：领导无需令牌即可打开的只读地图 / Read-only share links to a map page.")

Street = Annotated[str | None, typer.Option("--street", help="只显示该街道 / one street only")]
Days = Annotated[int, typer.Option("--days", help="有效天数（1–365）/ days the link works")]
BaseUrl = Annotated[
    str,
    typer.Option("--base-url", envvar="RENEWAL_PUBLIC_URL", help="服务对外地址 / the service's address for readers"),
]


#: The maps a link can open, as a Chinese reader names them.
MAP_WORDS = {"plan": "规划图", "progress": "进度图"}


def _actor() -> str:
    """Who makes or revokes a link from the command line (``cli:`` and the system login)."""
    return f"cli:{user_name()}"


def _make(
    kind: str, street: str | None, days: int, plan: int | None, profile: str | None, lang: str, base: str
) -> None:
    from geo.share_links import create_share
    from geo.stores import open_store

    link, secret = create_share(
        open_store(), kind=kind, actor=_actor(), street=street, days=days, profile=profile, plan_id=plan, lang=lang
    )
    what = MAP_WORDS[kind] if lang != "en" else f"{kind} map"
    scope = street or ("全部街道" if lang != "en" else "all streets")
    err_console.print(
        f"分享链接 {link.link_id}：{what}（{scope}），有效至 {link.expires_at:%Y-%m-%d %H:%M} UTC；"
        f"撤销：renewal share revoke {link.link_id}。链接只显示这一次："
        if lang != "en"
        else f"share link {link.link_id}: {what} ({scope}), works until {link.expires_at:%Y-%m-%d %H:%M} UTC; "
        f"revoke with: renewal share revoke {link.link_id}. The link is shown only once:",
        soft_wrap=True,
    )
    print(f"{base.rstrip('/')}/s/{secret}")


def _share_command(kind: str, doc: str) -> None:
    @friendly
    def command(
        street: Street = None,
        days: Days = 14,
        plan: PlanOpt = None,
        profile: ProfileOpt = None,
        base_url: BaseUrl = "http://127.0.0.1:8000",
        lang: Lang = "zh",
    ) -> None:
        _make(kind, street, days, plan, profile, lang, base_url)

    command.__doc__ = doc
    share_app.command(kind)(command)


_share_command("plan", "分享规划图 / Share the plan map (the link is printed alone on the last line).")
_share_command("progress", "分享进度图 / Share the progress map (the link is printed alone on the last line).")


@share_app.command("list")
@friendly
def share_list(lang: Lang = "zh") -> None:
    """列出分享链接（不含密钥）/ Every share link, newest first (never its secret)."""
    from rich.table import Table

    from geo.share_links import list_shares
    from geo.stores import open_store

    en = lang == "en"
    states = {"active": "有效", "expired": "已过期", "revoked": "已撤销"}
    table = Table(
        *(
            ["id", "map", "street", "plan", "made by", "expires (UTC)", "state"]
            if en
            else ["编号", "地图", "街道", "规划", "创建人", "到期（UTC）", "状态"]
        )
    )
    for link in list_shares(open_store()):
        state = link.state()
        table.add_row(
            str(link.link_id),
            link.kind if en else MAP_WORDS[link.kind],
            link.street or ("all" if en else "全部"),
            str(link.plan_id) if link.plan_id else ("latest" if en else "最新"),
            link.created_by,
            f"{link.expires_at:%Y-%m-%d %H:%M}",
            state if en else states[state],
        )
    console.print(table)


@share_app.command("revoke")
@friendly
def share_revoke(
    link_id: Annotated[int, typer.Argument(help="链接编号 / link number (renewal share list)")], lang: Lang = "zh"
) -> None:
    """撤销分享链接，立即失效 / Revoke a share link; it stops working at once."""
    from geo.share_links import revoke_share
    from geo.stores import open_store

    link = revoke_share(open_store(), link_id, actor=_actor())
    console.print(
        f"share link {link.link_id} revoked" if lang == "en" else f"分享链接 {link.link_id} 已撤销，立即失效"
    )
