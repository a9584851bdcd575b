"""The change log: every committed write adds rows to ``changes`` in its own transaction, so caches know what moved.

One row per layer (or table: ``survey``, ``stage_events``, ``plans``) a transaction wrote: a ``change_id`` that
grows in commit order, the ``layer``, and the ``streets`` it touched (a JSON list of street names, or NULL for
"anything", as after a whole-layer import). ``max(change_id)`` is the cheap data stamp every cache compares
(analysis results, map pages, the data's Gauss–Krüger zone); the rows after a known id say which streets an
incremental analysis must redo.

Writes are found two ways, so a new write path cannot forget the log: the store's own bulk methods and every SQL
``INSERT``/``UPDATE``/``DELETE`` run inside `geo.stores.base.Store.begin` mark the table written (streets unknown),
and a writer that knows which streets it touched says so with `geo.stores.base.Store.note_change`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

#: Key of the change set in ``Connection.info`` while a `Store.begin` transaction is open.
CHANGESET_KEY = "renewal.changes"
#: Tables whose writes are not data changes of their own: the log itself, the edit history (always written with
#: its layer), and the users.
UNLOGGED = frozenset({"changes", "edits", "users"})
#: The table a data-changing SQL statement writes (the statement as sent to the driver).
_DML = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+["`\[]?(\w+)', re.IGNORECASE)
#: PostgreSQL advisory lock taken just before the log rows are inserted and held to commit: change ids are then
#: handed out in commit order, so a reader that has seen id N has seen every change up to N.
PG_LOCK_KEY = 0x72656E6577616C  # "renewal"


def written_table(statement: str) -> str | None:
    """The table an ``INSERT``/``UPDATE``/``DELETE`` statement writes, or None for anything else."""
    match = _DML.match(statement)
    return match.group(1).lower() if match else None


@dataclass
class ChangeSet:
    """What one transaction wrote: layers with the streets their writers named, and layers merely touched."""

    streets: dict[str, set[str] | None] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    def touch(self, layer: str) -> None:
        """``layer`` was written; which streets is unknown unless a writer says (`note`)."""
        if layer not in UNLOGGED:
            self.touched.add(layer)

    def note(self, layer: str, streets: Iterable[Any] | None) -> None:
        """``layer`` was written in ``streets`` (None, or a missing street name among them: anywhere)."""
        names = None if streets is None else list(streets)
        if names is None or any(not isinstance(s, str) or not s for s in names):
            self.streets[layer] = None
            return
        known = self.streets.get(layer, set())
        self.streets[layer] = None if known is None else known | set(names)

    def rows(self) -> list[dict[str, Any]]:
        """The log rows of this transaction, one per layer, in a stable order."""
        out = []
        for layer in sorted(self.touched | set(self.streets)):
            streets = self.streets.get(layer)
            out.append({"layer": layer, "streets": None if streets is None else sorted(streets)})
        return out


@dataclass(frozen=True)
class Change:
    """One row of the log."""

    change_id: int
    layer: str
    streets: tuple[str, ...] | None


__all__ = ["CHANGESET_KEY", "PG_LOCK_KEY", "UNLOGGED", "Change", "ChangeSet", "written_table"]
