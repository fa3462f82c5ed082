"""Child processes for the concurrent login tests: each builds its own app on the test
database (as a gunicorn worker would) and fires its attempts from a few threads at once."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path


def fire_logins(database_url: str, instance_dir: str, now_iso: str, forms: list[dict], barrier) -> list[int]:
    from mas.settings import load_settings
    from mas.web import create_app

    now = datetime.fromisoformat(now_iso)
    settings = load_settings(environ={}, env="test", instance_dir=Path(instance_dir), database_url=database_url)
    app = create_app(settings, clock=lambda: now)
    app.config["WTF_CSRF_ENABLED"] = False
    clients = [app.test_client() for _ in forms]
    local = threading.Barrier(len(forms))
    statuses = [0] * len(forms)

    def one(index: int) -> None:
        local.wait()
        statuses[index] = clients[index].post("/login", data=forms[index]).status_code

    barrier.wait()  # every process ready: then all threads of all processes at once
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(forms))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.extensions["mas"]["db"].dispose()
    return statuses


def child(queue, *args) -> None:
    try:
        queue.put(fire_logins(*args))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        queue.put(repr(exc))
