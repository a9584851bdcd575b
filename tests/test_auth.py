"""Users and tokens on both stores: only a digest is kept, roles nest, a rotated token stops working."""

from __future__ import annotations

import hashlib

import pytest

from geo import auth
from geo.errors import ConflictError, DataError, NotFoundError
from geo.stores import Store


def test_only_the_tokens_digest_is_stored(store: Store) -> None:
    token = auth.add_user(store, "王工", "planner")
    users = store.read_table("users")
    assert users["name"].tolist() == ["王工"]
    assert users["token_hash"].item() == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(users.to_dict("records"))
    assert len(token) >= 40


def test_a_token_names_its_user_and_role(store: Store) -> None:
    token = auth.add_user(store, "李科长", "admin")
    assert auth.user_for_token(store, token) == auth.User("李科长", "admin")
    assert auth.user_for_token(store, token + "x") is None


def test_roles_nest() -> None:
    planner = auth.User("p", "planner")
    assert planner.can("viewer") and planner.can("planner")
    assert not planner.can("admin")
    assert not auth.User("v", "viewer").can("planner")


def test_rotating_a_token_revokes_the_old_one(store: Store) -> None:
    old = auth.add_user(store, "赵", "viewer")
    new = auth.rotate_token(store, "赵")
    assert auth.user_for_token(store, old) is None
    assert auth.user_for_token(store, new) == auth.User("赵", "viewer")


def test_bad_requests_are_refused(store: Store) -> None:
    auth.add_user(store, "钱", "viewer")
    with pytest.raises(ConflictError):
        auth.add_user(store, "钱", "planner")
    with pytest.raises(DataError):
        auth.add_user(store, "孙", "superuser")
    with pytest.raises(NotFoundError):
        auth.set_role(store, "周", "planner")
    auth.set_role(store, "钱", "planner")
    auth.remove_user(store, "钱")
    assert auth.list_users(store) == []
