"""User administration (admin role): add users, change roles, new tokens, remove users."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.deps import Admin, StoreDep
from geo import auth

router = APIRouter(prefix="/users", tags=["Users"])


class NewUser(BaseModel):
    name: str = Field(min_length=1)
    role: str = "viewer"


class RoleChange(BaseModel):
    role: str


@router.get("", summary="Users and their roles")
def users(store: StoreDep, user: Admin) -> list[dict[str, str]]:
    return [{"name": u.name, "role": u.role} for u in auth.list_users(store)]


@router.post("", status_code=201, summary="Add a user; the response holds the token, shown only this once")
def add(body: NewUser, store: StoreDep, user: Admin) -> dict[str, Any]:
    token = auth.add_user(store, body.name, body.role)
    return {"name": body.name, "role": body.role, "token": token}


@router.put("/{name}/role", summary="Change a user's role")
def change_role(name: str, body: RoleChange, store: StoreDep, user: Admin) -> dict[str, str]:
    auth.set_role(store, name, body.role)
    return {"name": name, "role": body.role}


@router.post("/{name}/token", summary="Give a user a new token (the old one stops working)")
def new_token(name: str, store: StoreDep, user: Admin) -> dict[str, str]:
    return {"name": name, "token": auth.rotate_token(store, name)}


@router.delete("/{name}", status_code=204, summary="Remove a user")
def remove(name: str, store: StoreDep, user: Admin) -> Response:
    auth.remove_user(store, name)
    return Response(status_code=204)
