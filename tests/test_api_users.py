"""User administration over HTTP: only an admin manages users; a new token works at once, a removed one never."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from geo.auth import add_user
from geo.settings import APISettings
from geo.stores import Store


def test_admin_adds_a_planner_whose_token_works(store: Store) -> None:
    app = create_app(store, settings=APISettings())
    admin = TestClient(app, headers={"Authorization": f"Bearer {add_user(store, 'root', 'admin')}"})
    r = admin.post("/users", json={"name": "王工", "role": "planner"})
    assert r.status_code == 201
    planner = TestClient(app, headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert planner.get("/conformance").status_code == 200
    assert planner.get("/users").status_code == 403
    assert admin.get("/users").json() == [{"name": "root", "role": "admin"}, {"name": "王工", "role": "planner"}]
    assert admin.post("/users", json={"name": "王工", "role": "viewer"}).status_code == 409
    assert admin.post("/users", json={"name": "新人", "role": "boss"}).status_code == 422
    assert admin.delete("/users/王工").status_code == 204
    assert planner.get("/conformance").status_code == 401


def test_cors_origins_are_configurable(store: Store) -> None:
    app = create_app(store, settings=APISettings(cors_origins=["https://gis.example.cn"], anonymous_read=True))
    r = TestClient(app).options(
        "/collections",
        headers={
            "Origin": "https://gis.example.cn",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert r.headers["access-control-allow-origin"] == "https://gis.example.cn"
    other = TestClient(app).get("/collections", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers
