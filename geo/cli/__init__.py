"""The ``renewal`` command line (Typer). Thin: each command parses options and calls the library.

One module per group of commands; this module only assembles them into the ``renewal`` app.
"""

from __future__ import annotations

import typer

from geo.cli import data, maps, planning, run, service
from geo.cli.calendar import calendar_app
from geo.cli.ledger import ledger_app
from geo.cli.profiles import profiles_app
from geo.cli.service import user_app
from geo.cli.share import share_app
from geo.cli.stages import stage_app

app = typer.Typer(
    help="城镇老旧小区改造规划工具 / Old-residential-community renovation planning.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
data.register(app)
run.register(app)
planning.register(app)
maps.register(app)
service.register(app)
app.add_typer(profiles_app, name="profiles")
app.add_typer(stage_app, name="stage")
app.add_typer(ledger_app, name="ledger")
app.add_typer(user_app, name="user")
app.add_typer(calendar_app, name="calendar")
app.add_typer(share_app, name="share")
