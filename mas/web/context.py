"""What views need from the app: the database, the service context, the moment, the actor."""

from __future__ import annotations

from flask import current_app, g


def db():
    return current_app.extensions["mas"]["db"]


def ctx():
    return current_app.extensions["mas"]["context"]


def now():
    return current_app.extensions["mas"]["clock"]()


def actor():
    return g.mas_user.actor
