"""The coordinator's view of the team: who can read its cases, and every change to those accounts."""

from __future__ import annotations

from flask import Blueprint, render_template

from mas.services import accounts
from mas.web import context as web
from mas.web.security import roles
from mas.workflows import Role

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.get("")
@roles(Role.COORDINATOR)
def accounts_page():
    with web.db().read() as conn:
        data = accounts.team_accounts(conn, web.actor())
    return render_template("team/accounts.html", **data)
