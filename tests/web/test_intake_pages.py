"""The upload page (preview, then import), its size limit, the DUO export and the vangnet page."""

from __future__ import annotations

import html
import io
import re
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from mas.models import Signal, VangnetEntry
from mas.services import vangnet
from mas.services.actors import SYSTEM
from mas.web import create_app
from tests.factories import valid_bsn
from tests.web.conftest import log_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def signals(db) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(Signal.__table__)).scalar_one()


def upload(client, data: bytes, name="meldingen.csv"):
    return client.post("/import/verzuim", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def post_raw(client, data: bytes, name="meldingen.csv"):
    """A multipart body built by hand: the test client spools a large `data=` file to a temporary
    file it never closes."""
    boundary = "grens"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return client.post("/import/verzuim", input_stream=io.BytesIO(body), content_length=len(body),
                       content_type=f"multipart/form-data; boundary={boundary}")


def test_preview_then_import_then_nothing_new(db, login):
    client = login("regisseur_a")
    data = (EXAMPLES / "verzuimmeldingen.csv").read_bytes()
    preview = upload(client, data)
    assert preview.status_code == 200
    assert 'id="count-new">20<' in preview.get_data(as_text=True)
    assert signals(db) == 0  # a preview stores nothing
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    done = client.post("/import/verzuim/bevestig", data={"token": token})
    assert done.status_code == 200 and signals(db) == 20
    assert client.post("/import/verzuim/bevestig", data={"token": token}).status_code == 422  # used once
    again = upload(client, data)
    assert 'id="count-new">0<' in again.get_data(as_text=True) and "Al eerder geïmporteerd 20" in _text(again)


def test_a_preview_on_one_worker_is_imported_by_another(db, settings, clock, login, tmp_path):
    """Several web workers, each with its own instance folder (another machine): the one that
    answers the confirmation imports the file the other one previewed."""
    first = login("regisseur_a")
    preview = upload(first, (EXAMPLES / "verzuimmeldingen.csv").read_bytes())
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    other = create_app(replace(settings, instance_dir=tmp_path / "other-machine"), clock=clock)
    other.config["WTF_CSRF_ENABLED"] = False
    try:
        done = log_in(other, clock, "regisseur_a").post("/import/verzuim/bevestig", data={"token": token})
    finally:
        other.extensions["mas"]["db"].dispose()
    assert done.status_code == 200, _text(done)
    assert signals(db) == 20
    assert not (settings.instance_dir / "uploads").exists()  # nothing left on the first worker's disk


def test_bad_rows_are_listed_by_line_field_and_reason(db, login):
    page = upload(login("regisseur_a"), (EXAMPLES / "verzuimmeldingen-met-fouten.csv").read_bytes())
    text = _text(page)
    assert "2 BSN Dit BSN klopt niet: de elfproef faalt." in text
    assert "4 BRIN 'ABCD' is geen BRIN-nummer" in text
    assert 'id="count-bad">7<' in page.get_data(as_text=True)


def test_an_empty_file_and_a_file_over_the_limit_are_refused_naming_why(db, login):
    client = login("regisseur_a")
    empty = upload(client, b"")
    assert empty.status_code == 422 and "Het bestand is leeg." in _text(empty)
    boundary = "grens"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"groot.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + b"a;b\n" + b"x" * (11 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    big = client.post("/import/verzuim", input_stream=io.BytesIO(body), content_length=len(body),
                      content_type=f"multipart/form-data; boundary={boundary}")
    assert big.status_code == 413
    assert "groter dan de grens van 10 MB" in _text(big) and "mas import verzuim" in _text(big)


def test_a_file_over_the_app_s_own_limit_but_within_the_page_s_is_read(db, login):
    """The app refuses bodies over 2 MB before the form is read (CSRF, the NUL check); the upload
    page's own, larger limit holds for its file."""
    data = (EXAMPLES / "verzuimmeldingen.csv").read_bytes() + b"\r\n" * (3 * 1024 * 1024 // 2)
    page = post_raw(login("regisseur_a"), data)
    assert page.status_code == 200 and 'id="count-new">20<' in page.get_data(as_text=True)
    assert signals(db) == 0  # a preview stores nothing


def test_who_may_not_use_the_upload_page_is_not_told_its_limit(login):
    big = post_raw(login("partner_wijkteam"), b"x" * (11 * 1024 * 1024), name="groot.csv")
    assert big.status_code in (404, 413) and "mas import verzuim" not in _text(big)  # 413: CSRF read the form first


def test_partners_do_not_see_the_import(login):
    assert login("partner_wijkteam").get("/import/verzuim").status_code == 404


def test_export_downloads_the_team_s_meldingen(db, login):
    client = login("regisseur_a")
    token = re.search(r'name="token" value="([^"]+)"',
                      upload(client, (EXAMPLES / "verzuimmeldingen.csv").read_bytes()).get_data(as_text=True)).group(1)
    client.post("/import/verzuim/bevestig", data={"token": token})
    export = client.get("/import/verzuim/export.csv")
    lines = export.get_data(as_text=True).strip().splitlines()
    assert export.mimetype == "text/csv" and len(lines) == 21 and lines[1].endswith(";in behandeling;;")


def test_vangnet_page_counts_lists_and_turns_entries_into_signals(db, ctx, world, now, login, tmp_path):
    missing = [valid_bsn() for _ in range(3)]
    youths = tmp_path / "j.csv"
    youths.write_text("bsn;voornaam;achternaam;geboortedatum\n"
                      + "".join(f"{b};Sem;Nummer{i};14-05-2011\n" for i, b in enumerate(missing)))
    enrollments = tmp_path / "i.csv"
    enrollments.write_text("bsn;inschrijfdatum\n")
    report = vangnet.run_vangnet(db, ctx, SYSTEM, youths, enrollments, cutoff=date(2026, 2, 2), team_id=world.team_a,
                                 now=now)
    client = login("regisseur_a")
    assert "2 februari 2026" in _text(client.get("/import/vangnet"))
    page = client.get(f"/import/vangnet/{report.round_id}")
    assert 'id="count-open">3<' in page.get_data(as_text=True)
    with db.read() as conn:
        ids = conn.execute(select(VangnetEntry.__table__.c.id).order_by(VangnetEntry.__table__.c.id)).scalars().all()
    done = client.post(f"/import/vangnet/{report.round_id}", data={"entry": [str(ids[0]), str(ids[1])],
                                                                   "action": "signal"})
    assert done.status_code == 302 and signals(db) == 2
    refused = client.post(f"/import/vangnet/{report.round_id}", data={"entry": [str(ids[2])], "action": "close",
                                                                      "reason": ""})
    assert refused.status_code == 422
    client.post(f"/import/vangnet/{report.round_id}", data={"entry": [str(ids[2])], "action": "close",
                                                            "reason": "Woont in België"})
    text = _text(client.get(f"/import/vangnet/{report.round_id}"))
    assert "Woont in België" in text and "zaak MAS-2026-" in text
    assert login("regisseur_b").get(f"/import/vangnet/{report.round_id}").status_code == 404
