"""Settings split by concern (pydantic-settings), read from ``RENEWAL_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SQLITE_PATH = Path("var") / "renewal.sqlite"


class DatabaseSettings(BaseSettings):
    """Where data lives: unset means the embedded SQLite file under ``./var/``; a postgresql URL means PostGIS."""

    model_config = SettingsConfigDict(env_prefix="RENEWAL_", extra="ignore")

    database_url: str | None = None
    pool_size: int = Field(default=5, ge=1)
    statement_timeout_ms: int = Field(default=30_000, ge=0)

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{DEFAULT_SQLITE_PATH}"


class PolicySettings(BaseSettings):
    """The policy profile in force when a command or request names none."""

    model_config = SettingsConfigDict(env_prefix="RENEWAL_", extra="ignore")

    profile: str = "national-2020"
    lang: str = "zh"


class APISettings(BaseSettings):
    """HTTP service behaviour: who may read anonymously, CORS for web GIS clients, request size limits."""

    model_config = SettingsConfigDict(env_prefix="RENEWAL_API_", extra="ignore")

    anonymous_read: bool = False
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_features_per_page: int = Field(default=10_000, ge=1)
    default_limit: int = Field(default=100, ge=1)


@lru_cache
def database_settings() -> DatabaseSettings:
    return DatabaseSettings()


@lru_cache
def policy_settings() -> PolicySettings:
    return PolicySettings()


@lru_cache
def api_settings() -> APISettings:
    return APISettings()
