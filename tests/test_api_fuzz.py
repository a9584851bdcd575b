"""Schemathesis fuzzes every operation of ``/openapi.json`` in-process: no 5xx and no response off its schema.

The app runs over a SQLite store in a temporary directory holding a generated city of 60 communities, called with
an admin token so the write routes (create, patch, merge, split, plans, users) are exercised as well as the reads.
Generation is derandomised (a fixed seed) and bounded per operation, so the run is repeatable and short.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from geo.auth import add_user
from geo.settings import APISettings
from geo.stores import Store, open_store
from geo.synthetic.city import make_city

#: Examples per operation: about 30 operations × this many requests keeps the whole run well under a minute.
EXAMPLES_PER_OPERATION = 12


def load_city(store: Store, *, n_communities: int) -> None:
    """Write a generated city into ``store`` in one transaction (the survey table too)."""
    city = make_city(n_communities=n_communities)
    with store.begin() as conn:
        for layer in ("streets", "neighbourhoods", "communities", "buildings", "zones", "roads"):
            store.write_layer(conn, layer, city[layer])
        store.write_table(conn, "survey", city["survey"])


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = open_store(f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'city.sqlite'}")
    load_city(store, n_communities=60)
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def admin_token(fuzz_store: Store) -> str:
    return add_user(fuzz_store, "fuzz-admin", "admin")


@pytest.fixture(scope="module")
def api_schema(fuzz_store: Store) -> schemathesis.BaseSchema:
    app = create_app(fuzz_store, settings=APISettings())
    return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_response_fits_the_schema(case: schemathesis.Case, admin_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
