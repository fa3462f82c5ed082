"""What views need from the app: the database, the service context, the moment, the actor."""

from __future__ import annotations

from flask import current_app, g


def db():
    return current_app.extensions["mas"]["db"]


def ctx():
    return current_app.extensions["mas"]["context"]


def now():
    """The request's one moment: read from the clock once, at the start of the request."""
    moment = g.get("mas_now")
    if moment is None:
        moment = g.mas_now = current_app.extensions["mas"]["clock"]()
    return moment


def actor():
    return g.mas_user.actor
