"""Both maps in headless Chromium with the network cut off, as a leader uses them, and share links end to end.

Driven with Playwright's Python package against the system Chromium. Every request that is not the page itself
(or, for share links, the loopback server) is aborted, so a CDN reference would leave the page blank.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from geo.analysis import analyse, load_city, plan_streets, save_plan
from geo.auth import add_user
from geo.policy.profiles import load_profile
from geo.stores import Store
from maps.plan import render_plan_map
from maps.progress import render_progress_map
from tests.test_api_edit_page import browser_page  # noqa: F401 - the fixture
from tests.test_api_features import load_sample, serve
from tests.test_maps import load

pytestmark = pytest.mark.browser
PROFILE = load_profile("chuxiong-2020")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("browser")
    city = load(f"sqlite:///{out / 'city.sqlite'}")
    analysis = analyse(city, profile=PROFILE)
    plan = plan_streets(analysis, streets=None, year_from=2026, budget_per_year=60_000_000)
    plan_page = out / "plan.html"
    plan_page.write_text(render_plan_map(analysis=analysis, plan=plan, city=city), encoding="utf-8")
    cands = analysis.candidates
    ids = cands["community_id"].tolist()
    stages = pd.DataFrame(
        {
            "community_id": ids[:4],
            "stage": ["tender", "construction", "acceptance", "survey"],
            "date": [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 5, 1), dt.date(2025, 3, 1)],
        }
    )
    progress_page = out / "progress.html"
    progress_page.write_text(
        render_progress_map(
            analysis=analysis, city=city, stages=stages, as_of=dt.date(2026, 12, 1), profile=PROFILE, plan=plan
        ),
        encoding="utf-8",
    )
    # Mangshi sets deadlines: accepted 2026-05-01, handed over within three months, so overdue by December.
    mangshi = load_profile("mangshi-2020")
    overdue_page = out / "overdue.html"
    overdue_page.write_text(
        render_progress_map(
            analysis=analyse(city, profile=mangshi),
            city=city,
            stages=stages,
            as_of=dt.date(2026, 12, 1),
            profile=mangshi,
        ),
        encoding="utf-8",
    )
    year_of = plan.units[["members", "year"]].explode("members").set_index("members")["year"]
    inside = cands[cands["community_id"].isin(year_of.index)].iloc[0]
    return {
        "plan": plan_page,
        "progress": progress_page,
        "overdue": overdue_page,
        "late": (ids[2], cands.set_index("community_id").loc[ids[2], "street"]),
        "n": len(cands),
        "planned": (inside["community_id"], inside["name"], int(year_of[inside["community_id"]])),
        "streets": sorted(cands["street"].unique()),
    }


def offline(page) -> list[str]:
    """Abort every request but file:// and loopback ones; collect script errors."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(("file:", "http://127.0.0.1")) else route.abort()
        ),
    )
    return errors


def open_offline(page, url: str) -> list[str]:
    """Open a map page with the network cut off (see :func:`offline`) and wait until it has drawn its layers."""
    errors = offline(page)
    page.goto(url)
    page.wait_for_selector("body[data-rendered]")
    return errors


def _centre_of(page, community_id: str) -> tuple[float, float]:
    """Page coordinates of a compound's centre, through the page's own map."""
    x, y = page.evaluate(
        """(id) => {
            const layer = renewal.groups.find((l) => l.search);
            const i = layer.props.id.findIndex((k) => renewal.text(k) === id);
            const map = layer._group._map;
            const p = map.latLngToContainerPoint(layer._feats[i].getBounds().getCenter());
            return [p.x, p.y];
        }""",
        community_id,
    )
    box = page.locator(".folium-map").bounding_box()
    return box["x"] + x, box["y"] + y


def test_clicking_a_compound_on_the_plan_map_shows_the_compound(pages: dict[str, Any], browser_page) -> None:  # noqa: F811
    page = browser_page
    errors = open_offline(page, pages["plan"].as_uri())
    assert int(page.get_attribute("body", "data-rendered")) > pages["n"]
    # folium's controls and plugins are on the page: scale, layers, fullscreen, measure, minimap, search.
    for selector in (
        ".leaflet-control-scale",
        ".leaflet-control-layers",
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".leaflet-control-minimap",
        ".leaflet-control-search",
    ):
        assert page.locator(selector).count() == 1, selector
    community_id, name, year = pages["planned"]
    # Its package outline is drawn on top of it; the click must still reach the compound.
    page.mouse.click(*_centre_of(page, community_id))
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert name in text and community_id in text and "评分" in text and "估算投资" in text
    assert "计划年度" in text and str(year) in text
    # The per-year panel sits beside the map, not over it.
    side = page.locator(".rn-side").bounding_box()
    map_box = page.locator(".folium-map").bounding_box()
    assert side["x"] >= map_box["x"] + map_box["width"] - 1
    assert "2026" in page.locator(".rn-side").inner_text()
    # Search by number opens the compound's popup too.
    page.keyboard.press("Escape")
    page.locator(".leaflet-control-search input").press_sequentially(community_id, delay=30)
    page.locator(".search-tooltip .search-tip").first.click()
    page.wait_for_function(f"document.querySelector('.leaflet-popup-content')?.innerText.includes('{community_id}')")
    assert errors == []


def test_progress_page_shows_street_table_and_charts_offline(pages: dict[str, Any], browser_page) -> None:  # noqa: F811
    page = browser_page
    errors = open_offline(page, pages["progress"].as_uri())
    rows = page.locator("tr.rn-pick")
    assert rows.count() == len(pages["streets"])
    assert page.locator("svg.rn-chart").count() == 2
    assert page.locator("svg.rn-chart rect").count() > len(pages["streets"])
    chart = page.locator("svg.rn-chart").first.bounding_box()
    assert chart["width"] > 200 and chart["height"] > 60  # drawn, not an empty box
    # Picking a street in the table shows that street's figures and only its overdue compounds.
    street = pages["streets"][1]
    page.locator(f"tr.rn-pick[data-street='{street}']").click()
    assert page.locator(f".rn-section[data-street='{street}']").is_visible()
    assert not page.locator(".rn-section[data-street='']").first.is_visible()
    assert page.locator(f"tr.rn-pick.rn-current[data-street='{street}']").count() == 1
    # On a phone: the map first, full width and tall, the panel below it.
    page.set_viewport_size({"width": 390, "height": 844})
    map_box = page.locator(".folium-map").bounding_box()
    side = page.locator(".rn-side").bounding_box()
    assert map_box["width"] >= 380 and map_box["height"] > 400 and side["y"] >= map_box["y"] + map_box["height"]
    assert errors == []


def test_overdue_list_names_deadline_and_clause_and_follows_the_street(pages: dict[str, Any], browser_page) -> None:  # noqa: F811
    page = browser_page
    errors = open_offline(page, pages["overdue"].as_uri())
    late_id, late_street = pages["late"]
    rows = page.locator("#rn-overdue tbody tr")
    assert rows.count() >= 1
    row = page.locator("#rn-overdue tbody tr", has_text=late_id)
    text = row.inner_text()
    assert "竣工验收" in text and "2026-" in text and "芒政办发〔2020〕28号" in text
    # Another street's list does not hold it; its own does; clicking the name opens the compound.
    other = next(s for s in pages["streets"] if s != late_street)
    page.select_option("#rn-street", other)
    assert page.locator("#rn-overdue tbody tr", has_text=late_id).count() == 0
    page.select_option("#rn-street", late_street)
    page.locator(f"#rn-overdue .rn-locate[data-id='{late_id}']").click()
    page.wait_for_function(f"document.querySelector('.leaflet-popup-content')?.innerText.includes('{late_id}')")
    assert "已逾期" in page.locator(".leaflet-popup-content").inner_text()
    assert errors == []


def test_share_link_opens_progress_map_without_token_until_revoked(store: Store, browser_page) -> None:  # noqa: F811
    load_sample(store)
    analysis = analyse(load_city(store), profile=PROFILE)
    plan = plan_streets(analysis, streets=None, year_from=2026, budget_per_year=60_000_000)
    save_plan(store, name="p", profile=PROFILE.id, params={"budget_per_year": 60_000_000}, plan=plan)
    token = add_user(store, "planner-share", "planner")
    page = browser_page
    errors = offline(page)
    with serve(store) as base:
        import httpx

        planner = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert httpx.get(f"{base}/maps/progress.html", timeout=60).status_code == 401  # what a leader got before
        made = planner.post("/shares", json={"kind": "progress", "profile": PROFILE.id, "days": 7})
        assert made.status_code == 201, made.text
        url = made.json()["url"]
        assert url.startswith(base + "/s/")
        response = page.goto(url)  # a fresh browser: no token anywhere
        assert response.status == 200
        page.wait_for_selector("body[data-rendered]")
        assert "改造进度图" in page.title() and page.locator("tr.rn-pick").count() == 4
        assert page.locator("svg.rn-chart").count() == 2
        # The link opens that page only: the API behind it still wants a token.
        assert httpx.get(f"{base}/collections/communities/items", timeout=60).status_code == 401
        revoked = planner.delete(f"/shares/{made.json()['id']}")
        assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
        again = page.goto(url)
        assert again.status == 410
        assert "已撤销" in page.locator("body").inner_text()
    assert errors == []
