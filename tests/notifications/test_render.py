"""Rendering: every template from what the services really queue; Dutch, Amsterdam time,
HTML escaped, text not; only non-personal context keys reach a template."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest
from jinja2 import meta, nodes

from mas.dates import nl_date as format_day
from mas.dates import nl_moment as format_moment
from mas.notifications.links import enrolment_link
from mas.notifications.outbox import TEMPLATES
from mas.notifications.render import TEMPLATE_DIR, build_message, environment, render
from mas.settings import load_settings
from tests.notifications.helpers import SWEEP_AT, outbox_rows, queue_every_kind, rung_context

# What a template may read: the outbox context the services build, and nothing about the youth.
# Professionals may be named: who holds a case, whom to call, to whom a message was not delivered.
ALLOWED_NAMES = {
    "reference", "what", "kind", "due_at", "since", "level", "rung", "is_reminder", "organisation", "link",
    "date", "items", "is_overdue", "base_url", "subject",
    "holder", "team", "contact", "role_label", "fallback", "link_expires", "references", "recipient", "reason",
    "officer",  # the team's word for the officer (config), not a person
    "valid_until", "is_renewal", "change", "role",  # enrolment links and account changes: nobody's name
}
# The moment each kind states, besides the due moment of a deadline.
MOMENT_OF = {"enrolment": "valid_until", "account_changed": "date", "case_received": "since"}


@pytest.fixture
def plain_settings(tmp_path):
    """Settings without a database (rendering needs none)."""
    return load_settings(environ={}, env="test", instance_dir=tmp_path / "instance")


def _read_names(env, source_name: str) -> set[str]:
    """Names a template reads from its context, less what it defines itself (set, macro, import)."""
    ast = env.parse(env.loader.get_source(env, source_name)[0])
    defined = {n.name for n in ast.find_all(nodes.Name) if n.ctx == "store"}
    defined |= {n.name for n in ast.find_all(nodes.Macro)}
    for node in ast.find_all(nodes.FromImport):
        defined |= {alias if isinstance(alias, str) else alias[1] for alias in node.names}
    return meta.find_undeclared_variables(ast) - defined


def test_times_are_shown_in_amsterdam_in_dutch():
    assert format_moment("2026-03-10T22:59:59+00:00") == "dinsdag 10 maart 2026, 23:59"  # winter time, UTC+1
    assert format_moment("2026-07-01T21:59:59+00:00") == "woensdag 1 juli 2026, 23:59"  # summer time, UTC+2
    assert format_moment(datetime(2026, 10, 25, 5, 30, tzinfo=timezone.utc)) == "zondag 25 oktober 2026, 06:30"
    assert format_day("2026-03-03") == "dinsdag 3 maart 2026"
    assert format_day("2026-03-10T23:30:00+00:00") == "woensdag 11 maart 2026"  # already the 11th in Amsterdam
    with pytest.raises(ValueError):
        format_moment("2026-03-10T22:59:59")  # naive: refuse rather than guess


def test_every_kind_has_both_templates_reading_only_allowed_names():
    env = environment()
    for kind in TEMPLATES:
        for suffix in ("txt", "html"):
            name = f"{kind}.{suffix}"
            assert (TEMPLATE_DIR / name).is_file(), name
            names = set()
            for source_name in [name, f"_base.{suffix}", f"_macros.{suffix}"]:
                names |= _read_names(env, source_name)
            assert names <= ALLOWED_NAMES, (name, names - ALLOWED_NAMES)


def test_each_template_renders_what_the_services_queue(db, ctx, world, now, settings):
    queue_every_kind(db, ctx, world, now)
    rows = outbox_rows(db)
    assert {row.template for row in rows} == set(TEMPLATES)
    for row in rows:
        mail = render(row.template, row.context, settings, now=SWEEP_AT)
        assert mail.subject and "\n" not in mail.subject and len(mail.subject) < 100, mail.subject
        assert mail.text.startswith("Beste collega,")
        assert "geen namen of andere persoonsgegevens" in mail.text
        if row.template == "enrolment":  # the link carries a secret: rebuilt when rendered, never stored
            assert "link" not in row.context and "/enrol/" not in str(row.context)
            link = enrolment_link(settings, row.context["enrolment_nonce"])
        else:
            link = row.context["link"]
        assert link in mail.text and f'href="{link}"' in mail.html
        assert link.startswith(settings.base_url)
        assert "None" not in mail.text and "None" not in mail.html
        if row.template in MOMENT_OF:
            assert format_moment(row.context[MOMENT_OF[row.template]]) in mail.text
            if "reference" in row.context:
                assert row.context["reference"] in mail.subject
        elif row.template in ("digest", "bundel"):
            for item in row.context["items"]:
                assert item["reference"] in mail.text and format_moment(item["due_at"]) in mail.html
        elif row.template == "niet_bezorgd":
            assert row.context["references"][0] in mail.subject and row.context["recipient"] in mail.text
        else:
            assert row.context["reference"] in mail.subject
            assert format_moment(row.context["due_at"]) in mail.text


def test_subjects_per_kind(plain_settings):
    context = rung_context(due_at="2026-03-10T22:59:59+00:00")
    reminder = dict(context, level="herinnering", is_reminder=True)
    assert render("reminder", reminder, plain_settings).subject == (
        "Herinnering zaak MAS-2026-000001: termijn loopt af op dinsdag 10 maart")
    before_due = datetime(2026, 3, 9, 9, tzinfo=timezone.utc)
    after_due = datetime(2026, 3, 11, 9, tzinfo=timezone.utc)
    assert render("rung", context, plain_settings, now=after_due).subject == "Termijn verstreken: zaak MAS-2026-000001"
    # A Thuiszitterspact rung falls weeks before its due date: no "verstreken" then.
    early = render("rung", context, plain_settings, now=before_due)
    assert early.subject == "Aandacht gevraagd: zaak MAS-2026-000001" and "verstreken" not in early.text
    higher = render("rung", dict(context, rung=3, level="escalatie trede 3"), plain_settings, now=after_due)
    assert higher.subject == "Escalatie trede 3: zaak MAS-2026-000001"
    assert "Dit is trede 3 van de escalatieladder" in higher.text


def test_html_is_escaped_and_text_is_not(plain_settings):
    context = dict(rung_context(), what='Plan <b>"A"</b> & B', organisation="<script>alert(1)</script>")
    mail = render("rung", context, plain_settings)
    assert 'Plan <b>"A"</b> & B' in mail.text and "<script>alert(1)</script>" in mail.text
    assert "Plan &lt;b&gt;&#34;A&#34;&lt;/b&gt; &amp; B" in mail.html
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html


def test_an_unknown_template_or_a_missing_key_fails_loudly(plain_settings):
    with pytest.raises(ValueError):
        render("newsletter", rung_context(), plain_settings)
    context = rung_context()
    del context["reference"]
    with pytest.raises(Exception, match="reference"):
        render("rung", context, plain_settings)


def test_the_message_has_the_headers_and_both_parts(plain_settings):
    row = {"template": "rung", "context": rung_context(), "recipient": "regisseur.a@example.org",
           "message_id": "<abc123@127.0.0.1>", "created_at": datetime(2026, 3, 3, 9, tzinfo=timezone.utc)}
    sent_at = datetime(2026, 3, 3, 9, 30, tzinfo=timezone.utc)
    message = build_message(row, plain_settings, sent_at)
    assert message["To"] == "regisseur.a@example.org"
    assert message["From"] == f"mas casusregie <{plain_settings.smtp.mail_from}>"
    assert message["Message-ID"] == "<abc123@127.0.0.1>"
    assert message["Subject"] == render("rung", row["context"], plain_settings, now=sent_at).subject
    assert parsedate_to_datetime(message["Date"]) == sent_at
    assert message["Date"].endswith("+0100")  # local time of Amsterdam, in winter
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert "MAS-2026-000001" in message.get_body(("plain",)).get_content()
    # Without a moment of sending the Date is the moment the message was queued.
    assert parsedate_to_datetime(build_message(row, plain_settings)["Date"]) == row["created_at"]


def test_the_team_s_word_for_the_officer_reaches_the_mail(tmp_path):
    config = tmp_path / "config"

    from mas.settings import SHIPPED_CONFIG_DIR
    config.mkdir()  # MAS_CONFIG_DIR holds only the file it replaces
    text = (SHIPPED_CONFIG_DIR / "mas.toml").read_text().replace('leerplichtambtenaar = "leerplichtambtenaar"',
                                                    'leerplichtambtenaar = "leerrechtondersteuner"')
    (config / "mas.toml").write_text(text)
    settings = load_settings(environ={}, env="test", instance_dir=tmp_path / "instance", config_dir=config)
    mail = render("doorgezet", {"reference": "MAS-2026-000001", "what": "Stap", "due_at": "2026-03-10T22:59:59+00:00",
                                "since": "2026-03-03", "link": "http://127.0.0.1:5000/partner"}, settings)
    assert "De leerrechtondersteuner van zaak MAS-2026-000001" in mail.text
