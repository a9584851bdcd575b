"""The city's analysis, computed once per profile and data state and shared by the API's planning routes.

The key is the store's change counter (:mod:`geo.stores.changes`): every committed write (import, edit, merge,
survey, stage event, plan) adds to it in its own transaction, so the next request after any write recomputes, and
repeated requests, from this process or another worker on the same store, do not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from geo.analysis import Analysis, City, analyse, load_city
from geo.model import SPATIAL_LAYERS
from geo.policy.profiles import load_profile
from geo.stores import Store

#: What an analysis reads: every spatial layer and the survey (stage events and plans only change map pages).
ANALYSIS_INPUTS = (*SPATIAL_LAYERS, "survey")


def data_stamp(store: Store) -> int:
    """The newest change to anything an analysis reads."""
    return store.change_stamp(ANALYSIS_INPUTS)


#: Rendered map pages kept (per profile, street, basemap, date and language).
MAX_PAGES = 32


class AnalysisCache:
    """The city (read once per data state) and its analyses by (profile, language), valid while the stamp holds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._city: tuple[int, City] | None = None
        self._entries: dict[tuple[str, str, bool], tuple[int, Analysis]] = {}
        self._pages: dict[tuple[Any, ...], tuple[int, str]] = {}

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
        """A rendered map page, rebuilt only when anything (data, stage events, plans) changed since it was built."""
        stamp = self.store.change_stamp()
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

    def _current_city(self, stamp: int) -> City:
        if self._city is None or self._city[0] != stamp:
            self._city = (stamp, load_city(self.store))
        return self._city[1]
