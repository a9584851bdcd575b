"""``/docs`` works on an intranet: headless Chromium with every request to another host blocked lists the operations.

Swagger UI comes from the ``swagger-ui-bundle`` package and is served by the API itself. The browser's requests are
all recorded; any that leaves the service's own host fails the test, and so does a page that shows no operations.
The HTML pages of the service (landing, collections, items) are checked the same way.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from geo.auth import add_user
from geo.stores import Store
from tests.test_api_edit_page import browser_page  # noqa: F401  (the headless Chromium fixture)
from tests.test_api_features import load_sample, serve


def test_docs_list_the_operations_with_the_network_off(store: Store, browser_page, tmp_path) -> None:  # noqa: F811
    load_sample(store)
    token = add_user(store, "reader", "viewer")
    page = browser_page
    outside: list[str] = []
    with serve(store) as base:
        own = urlsplit(base).netloc

        def only_here(route) -> None:
            if urlsplit(route.request.url).netloc == own:
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_here)
        page.goto(f"{base}/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        assert any("/collections/{cid}/items" in p.replace("\u200b", "") for p in paths)
        assert len(paths) > 20
        assert page.locator(".opblock-summary-method").first.inner_text() in ("GET", "POST", "PUT", "PATCH", "DELETE")

        page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        for path, text in (
            ("/?f=html", "城镇老旧小区改造"),
            ("/collections?f=html", "小区"),
            ("/collections/communities/items?f=html&limit=5", "家属"),
        ):
            page.goto(base + path)
            assert text in page.content(), path
        html = page.content()
        assert "http://" not in html.replace(base, "") and "https://" not in html
    assert outside == []
