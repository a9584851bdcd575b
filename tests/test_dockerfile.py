"""The container image runs the service as an unprivileged user, never as root."""

from __future__ import annotations

from tests.conftest import ROOT


def test_the_service_image_runs_as_a_user_that_is_not_root() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    final = lines[max(i for i, line in enumerate(lines) if line.upper().startswith("FROM ")) :]
    users = [line.split()[1] for line in final if line.upper().startswith("USER ")]
    assert users and users[-1] not in ("root", "0", "0:0")
    cmd = next(i for i, line in enumerate(final) if line.upper().startswith("CMD "))
    assert max(i for i, line in enumerate(final) if line.upper().startswith("USER ")) < cmd
    created = " ".join(line for line in final if "useradd" in line or "adduser" in line)
    assert users[-1] in created  # the user exists in the image, with a home it may write (the embedded store)
