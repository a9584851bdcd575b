"""Share links through the API and the CLI: planners make, list and revoke them; a link opens one page only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from geo.cli import app
from geo.share_links import create_share, list_shares
from geo.stores import Store
from tests.test_api_features import client_for, load_sample
from tests.test_api_progress_maps import city  # noqa: F401 - the fixture
from tests.test_maps import cli_store  # noqa: F401 - the fixture


def test_planner_makes_lists_and_revokes_links(city: Store) -> None:  # noqa: F811
    planner = client_for(city, "planner")
    made = planner.post("/shares", json={"kind": "plan", "street": "华庭街道", "days": 3, "profile": "chuxiong-2020"})
    assert made.status_code == 201, made.text
    body = made.json()
    secret = body["url"].rsplit("/", 1)[1]
    assert body["state"] == "active" and body["street"] == "华庭街道"
    assert dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.fromisoformat(body["created_at"]) == (
        dt.timedelta(days=3)
    )
    anonymous = client_for(city, "viewer")
    anonymous.headers.pop("Authorization")
    page = anonymous.get(f"/s/{secret}")
    assert page.status_code == 200 and "华庭街道城镇老旧小区改造规划图" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and "no-store" in page.headers["cache-control"]
    # Only that page: the secret is no token for the API.
    assert anonymous.get("/maps/plan.html").status_code == 401
    assert anonymous.get("/maps/plan.html", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    listed = planner.get("/shares").json()["shares"]
    assert [s["id"] for s in listed] == [body["id"]] and all(secret not in str(s) for s in listed)
    assert client_for(city, "viewer").get("/shares").status_code == 403
    assert client_for(city, "viewer").post("/shares", json={"kind": "plan"}).status_code == 403
    assert planner.delete(f"/shares/{body['id']}").json()["state"] == "revoked"
    gone = anonymous.get(f"/s/{secret}")
    assert gone.status_code == 410 and "已撤销" in gone.text and gone.headers["content-type"].startswith("text/html")
    unknown = anonymous.get("/s/" + "x" * 24)
    assert unknown.status_code == 404 and "无效" in unknown.text
    assert planner.delete("/shares/999").status_code == 404


def test_bad_share_requests_are_refused_and_store_nothing(city: Store) -> None:  # noqa: F811
    planner = client_for(city, "planner")
    assert planner.post("/shares", json={"kind": "plan", "street": "没有街道"}).status_code == 404
    assert planner.post("/shares", json={"kind": "plan", "plan": 42}).status_code == 404
    assert planner.post("/shares", json={"kind": "map"}).status_code == 422
    assert planner.post("/shares", json={"kind": "plan", "days": 0}).status_code == 422
    assert planner.post("/shares", json={"kind": "plan", "days": 400}).status_code == 422
    assert list_shares(city) == []


def test_expired_link_stops_working(store: Store) -> None:
    load_sample(store)
    link, secret = create_share(store, kind="progress", actor="t", days=1, profile="chuxiong-2020")
    client = client_for(store, "viewer")
    client.headers.pop("Authorization")
    assert client.get(f"/s/{secret}").status_code == 200
    table = store.tables["share_links"]
    with store.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.link_id == link.link_id)
            .values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        )
    expired = client.get(f"/s/{secret}")
    assert expired.status_code == 410 and "已过期" in expired.text
    assert list_shares(store)[0].state() == "expired"


def test_cli_share_list_revoke(cli_store: Path) -> None:  # noqa: F811
    runner = CliRunner()
    made = runner.invoke(
        app, ["share", "progress", "--street", "德岭街道", "--days", "2", "--base-url", "http://x:1/"]
    )
    assert made.exit_code == 0, made.output
    url = made.output.strip().splitlines()[-1]
    assert url.startswith("http://x:1/s/") and len(url) > len("http://x:1/s/") + 20
    listed = runner.invoke(app, ["share", "list"])
    assert "德岭街道" in listed.output and "有效" in listed.output and url.rsplit("/", 1)[1] not in listed.output
    assert runner.invoke(app, ["share", "revoke", "1"]).exit_code == 0
    assert "已撤销" in runner.invoke(app, ["share", "list"]).output
    wrong = runner.invoke(app, ["share", "plan", "--street", "没有街道"])
    assert wrong.exit_code == 2 and "华庭街道" in wrong.output
    assert runner.invoke(app, ["share", "revoke", "9"]).exit_code == 2
