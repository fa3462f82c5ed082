"""Pages anyone with a signed link may open: no login, the signature is the permission.

A bestuurlijk contact or an organisation's escalation contact has no account; their e-mail
links here. The link is signed with the installation's secret and expires; the page shows
what the e-mail said and nothing more (never anything about the youth).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from mas.services.status_page import status_of
from mas.web import context as web

bp = Blueprint("openbaar", __name__)


@bp.get("/termijn/<token>")
def termijn(token: str):
    with web.db().read() as conn:
        items = status_of(conn, web.ctx(), token, web.now())
    if items is None:
        return render_template("error.html", title="Link verlopen of ongeldig",
                               message="Deze link werkt niet (meer). Vraag het team van de zaak om de stand van "
                                       "zaken."), 404
    return render_template("public/termijn.html", items=items)
