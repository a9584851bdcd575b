"""``renewal serve`` and ``renewal user``: the HTTP service and who may use it."""

from __future__ import annotations

from typing import Annotated

import typer

from geo.cli._common import console, err_console, friendly

user_app = typer.Typer(help="用户与令牌 / users and tokens", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


def serve_cmd(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers")] = 1,
) -> None:
    """启动 HTTP 服务（OGC API – Features、规划、进度、地图）/ Start the HTTP API."""
    import uvicorn

    _announce(host, port)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")


def _announce(host: str, port: int) -> None:
    """Say which store is served and where, before uvicorn's own log; an empty store is said to be empty."""
    from sqlalchemy.engine import make_url

    from geo.stores import open_store

    store = open_store()
    try:
        url = make_url(str(store.engine.url)).render_as_string(hide_password=True)
        counts = store.counts()
    finally:
        store.dispose()
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    err_console.print(f"数据库 / store: {url}", soft_wrap=True, highlight=False)
    if not counts.get("communities"):
        err_console.print(
            "[yellow]数据库中没有小区：请先 renewal import communities FILE 或 renewal run DIR"
            "（示例数据：RENEWAL_DATABASE_URL=sqlite:///var/demo.sqlite，先运行 renewal demo）[/]\n"
            "[yellow]The store holds no communities: import some (renewal import / renewal run DIR), or serve the "
            "demo store (RENEWAL_DATABASE_URL=sqlite:///var/demo.sqlite after renewal demo)[/]",
            soft_wrap=True,
        )
    else:
        err_console.print("数据 / data: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v), soft_wrap=True)
    for path, what in (
        ("/", "OGC API – Features（QGIS / GDAL）"),
        ("/docs", "API 文档 / API docs"),
        ("/edit", "编辑页面 / editing page"),
        ("/maps/plan.html", "规划图 / plan map"),
        ("/maps/progress.html", "进度图 / progress map"),
    ):
        err_console.print(f"  {base}{path}  {what}", soft_wrap=True, highlight=False)


@user_app.command("add")
@friendly
def user_add(
    name: Annotated[str, typer.Argument(help="用户名 / user name")],
    role: Annotated[str, typer.Option("--role", help="viewer|planner|admin")] = "viewer",
) -> None:
    """新建用户；令牌只显示一次（最后一行）/ Add a user; the token is printed once, alone on the last line."""
    from geo.auth import add_user
    from geo.stores import open_store

    token = add_user(open_store(), name, role)
    err_console.print(f"用户 {name}（{role}）已创建；令牌只显示这一次 / user created; the token is shown only once:")
    print(token)


@user_app.command("list")
@friendly
def user_list() -> None:
    """列出用户 / List users."""
    from geo.auth import list_users
    from geo.stores import open_store

    for u in list_users(open_store()):
        console.print(f"{u.name}\t{u.role}")
