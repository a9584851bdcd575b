"""The city's analysis, computed once per profile and data state and shared by the API's planning routes.

The key is a cheap fingerprint of the data (row counts, the sum of feature versions, the newest fid and edit), so
any import or edit makes the next request recompute, and repeated requests for candidates or units do not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from geo.analysis import Analysis, City, analyse, load_city
from geo.model import SPATIAL_LAYERS
from geo.policy.profiles import load_profile
from geo.stores import Store


def data_stamp(store: Store) -> tuple[Any, ...]:
    """A value that changes whenever any layer, the survey or the edit log changes."""
    parts: list[Any] = []
    with store.engine.connect() as conn:
        for name in SPATIAL_LAYERS:
            t = store.tables[name]
            parts.append(tuple(conn.execute(select(func.count(), func.sum(t.c.version), func.max(t.c.fid))).one()))
        parts.append(conn.execute(select(func.count()).select_from(store.tables["survey"])).scalar())
        parts.append(conn.execute(select(func.max(store.tables["edits"].c.edit_id))).scalar())
    return tuple(parts)


def _stages_stamp(store: Store) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(func.max(store.tables["stage_events"].c.event_id))).scalar()


#: Rendered map pages kept (per profile, street, basemap, date and language).
MAX_PAGES = 32


class AnalysisCache:
    """The city (read once per data state) and its analyses by (profile, language), valid while the stamp holds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._city: tuple[tuple[Any, ...], City] | None = None
        self._entries: dict[tuple[str, str, bool], tuple[tuple[Any, ...], Analysis]] = {}
        self._pages: dict[tuple[Any, ...], tuple[tuple[Any, ...], str]] = {}

    def city(self) -> City:
        with self._lock:
            return self._current_city(data_stamp(self.store))

    def get(self, *, profile: str, lang: str = "zh", include_conditional: bool = True) -> Analysis:
        stamp = data_stamp(self.store)
        key = (profile, lang, include_conditional)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
            result = analyse(
                self._current_city(stamp),
                profile=load_profile(profile),
                lang=lang,
                include_conditional=include_conditional,
            )
            self._entries[key] = (stamp, result)
            return result

    def page(self, key: tuple[Any, ...], build: Callable[[], str]) -> str:
        """A rendered map page, rebuilt only when the data or the stage events changed since it was built."""
        stamp = (data_stamp(self.store), _stages_stamp(self.store))
        with self._lock:
            hit = self._pages.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        html = build()
        with self._lock:
            self._pages[key] = (stamp, html)
            while len(self._pages) > MAX_PAGES:
                self._pages.pop(next(iter(self._pages)))
        return html

    def _current_city(self, stamp: tuple[Any, ...]) -> City:
        if self._city is None or self._city[0] != stamp:
            self._city = (stamp, load_city(self.store))
        return self._city[1]
