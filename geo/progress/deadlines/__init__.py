"""Stage deadlines (时限), one YAML file per policy profile, each rule with its seed source.

A rule names the stage that must be reached and when: a month and day relative to the plan year (Mangshi's
"上一年10月前", Yulin's "当年6月30日前"), a fixed date (Jingyuan's 2023 programme) or a span after another stage
(Mangshi's "竣工验收完成3个月内"). The files sit beside the profiles they belong to, named by profile id; a profile
without a file has no deadlines.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from geo.errors import DataError
from geo.policy.profiles import Profile, StageCode, Text

DEADLINE_DIR = Path(__file__).parent


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class YearDate(_Frozen):
    """A month and day in the plan year shifted by ``year_offset`` (-1: the year before, 1: the year after)."""

    year_offset: int
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]

    @model_validator(mode="after")
    def _real_day(self) -> YearDate:
        dt.date(2000, self.month, self.day)  # a leap year, so 29 February is allowed
        return self

    def in_plan_year(self, plan_year: int) -> dt.date:
        return dt.date(plan_year + self.year_offset, self.month, self.day)


class AfterStage(_Frozen):
    """A span after the date another stage was reached."""

    stage: StageCode
    months: Annotated[int, Field(ge=0)] = 0
    days: Annotated[int, Field(ge=0)] = 0

    def from_date(self, start: dt.date) -> dt.date:
        shifted = pd.Timestamp(start) + pd.DateOffset(months=self.months, days=self.days)
        return shifted.date()


class DeadlineRule(_Frozen):
    """``stage`` (or a later one) must be reached by the date given by exactly one of ``due``, ``date``, ``after``."""

    code: str
    stage: StageCode
    due: YearDate | None = None
    date: dt.date | None = None
    after: AfterStage | None = None
    text: Text
    source: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _one_date(self) -> DeadlineRule:
        given = [name for name in ("due", "date", "after") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"rule {self.code!r}: give exactly one of due, date, after (got {given or 'none'})")
        return self

    def due_date(self, *, plan_year: int | None, reached: dict[str, dt.date]) -> dt.date | None:
        """The date this rule falls due, or None when it cannot be known yet (no plan year, anchor not reached)."""
        if self.date is not None:
            return self.date
        if self.due is not None:
            return None if plan_year is None else self.due.in_plan_year(plan_year)
        assert self.after is not None
        start = reached.get(self.after.stage)
        return None if start is None else self.after.from_date(start)


class Deadlines(_Frozen):
    profile: str
    rules: tuple[DeadlineRule, ...]


@functools.lru_cache(maxsize=32)
def _read(path: Path, _mtime: float) -> Deadlines:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Deadlines.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise DataError(
            f"时限配置文件 {path.name} 有误：{exc}", f"Deadline file {path.name} is invalid: {exc}"
        ) from exc


def load_deadlines(profile: Profile) -> Deadlines:
    """The deadline rules of ``profile`` (none when it has no file), checked against its stages.

    Raises
    ------
    DataError
        The file is not valid YAML, breaks the schema, belongs to another profile or names a stage the profile
        does not have.
    """
    path = DEADLINE_DIR / f"{profile.id}.yaml"
    if not path.is_file():
        return Deadlines(profile=profile.id, rules=())
    deadlines = _read(path, path.stat().st_mtime)
    if deadlines.profile != profile.id:
        raise DataError(
            f"时限配置文件 {path.name} 属于策略 {deadlines.profile}，而非 {profile.id}",
            f"Deadline file {path.name} belongs to profile {deadlines.profile}, not {profile.id}",
        )
    codes = {s.code for s in profile.stages}
    for rule in deadlines.rules:
        unknown = [s for s in (rule.stage, rule.after.stage if rule.after else rule.stage) if s not in codes]
        if unknown:
            raise DataError(
                f"时限配置文件 {path.name} 的规则 {rule.code} 引用了策略中没有的阶段 {unknown[0]}",
                f"Deadline file {path.name}: rule {rule.code} names stage {unknown[0]}, which the profile lacks",
            )
    return deadlines
