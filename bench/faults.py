"""Fault injection: restart PostgreSQL while the API serves a bounded load, and check how it copes.

Run as ``python -m bench.faults [--clients 8] [--seconds 25] [--restart-at 6]`` (not part of the test suite: it
restarts the local cluster with ``pg_ctlcluster --skip-systemctl-redirect 15 main restart``, which drops every
connection to it, other people's included). The API runs under uvicorn on loopback over a PostGIS store holding
the sample city; clients read (bbox pages, single communities) and write (PATCH with If-Match) throughout.

What must hold, and is reported:

- requests in flight when the database goes away fail cleanly: a 503 with a JSON ``detail``, never a 500, never
  a hang (a request taking longer than the client timeout counts as one);
- the service recovers on its own: requests succeed again within a few seconds of the database being back;
- no accepted write is lost: every PATCH answered 200 is in the community's history with its version and value,
  and each community ends at its last accepted version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench._measure import postgres_url
from bench.load import load_sample, serve_process
from geo.auth import add_user
from geo.stores import Store, open_store

RESTART = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"]
#: A request slower than this is a hang.
CLIENT_TIMEOUT = 15.0
#: The service must answer successfully again within this many seconds of the database being back.
RECOVERY_LIMIT = 10.0


@dataclass(frozen=True)
class Outcome:
    """One request: when it started and ended (seconds from the start), what it was and what came back."""

    kind: str
    start: float
    end: float
    status: int | None
    json_body: bool
    detail: str
    fid: int | None = None
    value: int | None = None
    version: int | None = None


async def _request(
    client: httpx.AsyncClient, rng: random.Random, fids: list[int], t0: float, seen: dict[int, str]
) -> Outcome:
    kind = rng.choices(["read", "item", "write"], [0.4, 0.3, 0.3])[0]
    fid = rng.choice(fids)
    value = rng.randint(1, 10**6)
    start = time.perf_counter() - t0
    try:
        if kind == "read":
            r = await client.get("/collections/communities/items", params={"limit": 50})
        elif kind == "item":
            r = await client.get(f"/collections/communities/items/{fid}")
            if r.status_code == 200:
                seen[fid] = r.headers["etag"]
        else:
            if fid not in seen:
                first = await client.get(f"/collections/communities/items/{fid}")
                if first.status_code != 200:
                    return _outcome(kind, start, t0, first)
                seen[fid] = first.headers["etag"]
            r = await client.patch(
                f"/collections/communities/items/{fid}",
                json={"properties": {"households": value}},
                headers={"If-Match": seen.pop(fid)},
            )
            if r.status_code == 200:
                seen[fid] = r.headers["etag"]
                return _outcome(kind, start, t0, r, fid=fid, value=value, version=int(r.headers["etag"].strip('"')))
        return _outcome(kind, start, t0, r)
    except httpx.TimeoutException:
        return Outcome(kind, start, time.perf_counter() - t0, None, False, "timeout (hang)")
    except httpx.TransportError as exc:
        return Outcome(kind, start, time.perf_counter() - t0, None, False, f"transport: {exc!r}")


def _outcome(kind: str, start: float, t0: float, r: httpx.Response, **write: int) -> Outcome:
    try:
        body = r.json()
        is_json, detail = isinstance(body, dict) and "detail" in body, str(body.get("detail", ""))[:200]
    except (json.JSONDecodeError, AttributeError):
        is_json, detail = r.status_code < 400, r.text[:200]
    return Outcome(
        kind, start, time.perf_counter() - t0, r.status_code, is_json or r.status_code < 400, detail, **write
    )


async def _load(url: str, token: str, fids: list[int], *, clients: int, seconds: float, restart_at: float) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    outcomes: list[Outcome] = []
    t0 = time.perf_counter()
    restart: dict[str, float] = {}

    async def restarter() -> None:
        await asyncio.sleep(restart_at)
        restart["start"] = time.perf_counter() - t0
        proc = await asyncio.create_subprocess_exec(*RESTART)
        restart["returncode"] = await proc.wait()
        restart["end"] = time.perf_counter() - t0

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=CLIENT_TIMEOUT) as client:

        async def worker(i: int) -> None:
            rng = random.Random(i)
            seen: dict[int, str] = {}
            while time.perf_counter() - t0 < seconds:
                outcomes.append(await _request(client, rng, fids, t0, seen))

        await asyncio.gather(restarter(), *(worker(i) for i in range(clients)))
    return {"outcomes": outcomes, "restart": restart}


def _lost_writes(store: Store, outcomes: list[Outcome]) -> list[dict[str, Any]]:
    """Accepted writes missing from the edit history, or communities not ending at their last accepted value."""
    from sqlalchemy import select

    edits = store.tables["edits"]
    accepted = [o for o in outcomes if o.kind == "write" and o.version is not None]
    communities = store.read_layer("communities").set_index("fid")
    with store.engine.connect() as conn:
        rows = conn.execute(select(edits.c.feature_id, edits.c.version, edits.c.after)).all()
    recorded = {}
    for feature_id, version, after in rows:
        props = (json.loads(after) if isinstance(after, str) else after or {}).get("properties", {})
        recorded[(feature_id, version)] = props.get("households")
    lost = []
    for o in accepted:
        cid = communities.at[o.fid, "id"]
        if recorded.get((cid, o.version)) != o.value:
            lost.append(
                {"fid": o.fid, "version": o.version, "value": o.value, "recorded": recorded.get((cid, o.version))}
            )
    last: dict[int, Outcome] = {}
    for o in accepted:
        if o.fid not in last or o.version > last[o.fid].version:  # type: ignore[operator]
            last[o.fid] = o
    for fid, o in last.items():
        if int(communities.at[fid, "version"]) != o.version or int(communities.at[fid, "households"]) != o.value:
            lost.append({"fid": fid, "final_version": int(communities.at[fid, "version"]), "expected": o.version})
    return lost


def run(*, clients: int = 8, seconds: float = 25.0, restart_at: float = 6.0) -> dict[str, Any]:
    """Restart PostgreSQL under load; return (and print) what the clients saw and whether anything was lost."""
    url = postgres_url("renewal_faults")
    if url is None:
        raise SystemExit("PostGIS is not reachable on 127.0.0.1:5432")
    store = open_store(url)
    with store.begin() as conn:
        names = ", ".join(t.name for t in reversed(store.metadata.sorted_tables))
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    load_sample(store)
    token = add_user(store, "faults-planner", "planner")
    fids = [int(f) for f in store.read_layer("communities")["fid"]][:20]
    with serve_process(url) as api:
        got = asyncio.run(_load(api, token, fids, clients=clients, seconds=seconds, restart_at=restart_at))
    outcomes: list[Outcome] = got["outcomes"]
    restart = got["restart"]
    store.engine.dispose()  # its pooled connections died with the restart
    lost = _lost_writes(store, outcomes)
    store.dispose()

    failed = [o for o in outcomes if o.status is None or o.status >= 500]
    server_errors = [o for o in outcomes if o.status is not None and o.status >= 500 and o.status != 503]
    not_json = [o for o in failed if o.status is not None and not o.json_body]
    hangs = [o for o in outcomes if o.status is None and "timeout" in o.detail]
    transport = [o for o in outcomes if o.status is None and "timeout" not in o.detail]
    back = restart.get("end", seconds)
    after_back = sorted((o for o in outcomes if o.start >= back), key=lambda o: o.start)
    first_ok = next((o.end for o in after_back if o.status is not None and o.status < 400), None)
    late_failures = [o for o in after_back if o.start > back + RECOVERY_LIMIT and o in failed]
    recovery = None if first_ok is None else max(0.0, first_ok - back)
    result: dict[str, Any] = {
        "requests": len(outcomes),
        "restart_seconds": round(back - restart.get("start", back), 2),
        "restart_returncode": restart.get("returncode"),
        "statuses": _count(o.status for o in outcomes),
        "failed": len(failed),
        "failed_503_json": sum(1 for o in failed if o.status == 503 and o.json_body),
        "server_errors_not_503": len(server_errors),
        "server_error_details": sorted({f"{o.status}: {o.detail}" for o in server_errors})[:5],
        "transport_details": sorted({f"{o.kind}: {o.detail[:160]}" for o in transport})[:5],
        "not_json": len(not_json),
        "hangs": len(hangs),
        "transport_errors": len(transport),
        "recovery_seconds": None if recovery is None else round(recovery, 2),
        "failures_after_recovery_window": len(late_failures),
        "accepted_writes": sum(1 for o in outcomes if o.version is not None),
        "lost_writes": lost,
    }
    result["ok"] = (
        not server_errors
        and not not_json
        and not hangs
        and not transport
        and recovery is not None
        and recovery <= RECOVERY_LIMIT
        and not late_failures
        and not lost
    )
    print(summary(result))
    return result


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        key = "none" if v is None else str(v)
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


def summary(result: dict[str, Any]) -> str:
    """A short human-readable report of a `run`."""
    lines = [
        f"PostgreSQL restart under load: {result['requests']} requests, restart took {result['restart_seconds']} s "
        f"(exit {result['restart_returncode']})",
        f"  statuses: {result['statuses']}",
        f"  failed: {result['failed']} (503+JSON {result['failed_503_json']}, other 5xx "
        f"{result['server_errors_not_503']}, not JSON {result['not_json']}, hangs {result['hangs']}, "
        f"transport {result['transport_errors']})",
        f"  recovered {result['recovery_seconds']} s after the database was back; "
        f"failures after {RECOVERY_LIMIT:g} s: {result['failures_after_recovery_window']}",
        f"  accepted writes: {result['accepted_writes']}, lost: {len(result['lost_writes'])}",
        f"  verdict: {'OK' if result['ok'] else 'FAILED'}",
    ]
    lines += [f"  5xx: {d}" for d in result["server_error_details"]]
    lines += [f"  transport: {d}" for d in result["transport_details"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--restart-at", type=float, default=6.0)
    args = parser.parse_args(argv)
    result = run(clients=args.clients, seconds=args.seconds, restart_at=args.restart_at)
    raise SystemExit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
