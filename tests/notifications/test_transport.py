"""Transports against a real (loopback) SMTP server: what counts as temporary or permanent,
one connection per batch, STARTTLS and login, the folder for the demo."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import ssl
import subprocess
from datetime import datetime, timezone
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from mas.notifications.transport import FolderTransport, PermanentError, SmtpTransport, TemporaryError, transport_for
from mas.settings import load_settings
from tests.smtp_fixtures import Mailbox, SmtpServer


def _message(to: str = "regisseur.a@example.org", n: int = 1) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "mas <mas@localhost>"
    message["To"] = to
    message["Subject"] = f"Bericht {n}"
    message["Date"] = "Tue, 03 Mar 2026 10:00:00 +0100"
    message["Message-ID"] = f"<bericht{n}@127.0.0.1>"
    message.set_content("Hallo, dit is een test: één, twee.")
    return message


def test_one_connection_carries_a_batch(smtp_settings, mailbox):
    with SmtpTransport(smtp_settings) as transport:
        for n in range(3):
            transport.send(_message(n=n))
    delivered = mailbox.messages()
    assert [d.message["Subject"] for d in delivered] == ["Bericht 0", "Bericht 1", "Bericht 2"]
    assert len({d.session for d in delivered}) == 1
    assert delivered[0].mail_from == smtp_settings.mail_from and delivered[0].rcpt_tos == ("regisseur.a@example.org",)


def test_a_451_is_temporary_and_the_connection_stays_usable(smtp_settings, mailbox):
    mailbox.defer_next = 1
    with SmtpTransport(smtp_settings) as transport:
        with pytest.raises(TemporaryError, match="451") as caught:
            transport.send(_message(n=1))
        assert not caught.value.stop_batch
        transport.send(_message(n=2))
    assert [d.message["Subject"] for d in mailbox.messages()] == ["Bericht 2"]


def test_a_recipient_refused_with_5xx_is_permanent_with_4xx_temporary(smtp_settings, mailbox):
    mailbox.refuse["weg@example.org"] = "550 5.1.1 Deze ontvanger bestaat niet"
    mailbox.refuse["vol@example.org"] = "452 4.2.2 Postbus vol"
    with SmtpTransport(smtp_settings) as transport:
        with pytest.raises(PermanentError, match="550"):
            transport.send(_message("weg@example.org"))
        with pytest.raises(TemporaryError, match="452"):
            transport.send(_message("vol@example.org"))
        transport.send(_message("regisseur.a@example.org"))
    assert len(mailbox.messages()) == 1


def test_no_server_is_temporary_and_says_the_connection_is_gone(smtp_server, smtp_settings):
    smtp_server.stop()
    with SmtpTransport(smtp_settings) as transport, pytest.raises(TemporaryError) as caught:
        transport.send(_message())
    assert caught.value.stop_batch and "unreachable" in str(caught.value)


def test_a_server_that_stops_answering_times_out_as_temporary(smtp_settings, mailbox):
    mailbox.delay = 3.0
    with SmtpTransport(smtp_settings, timeout=0.5) as transport, pytest.raises(TemporaryError) as caught:
        transport.send(_message())
    assert caught.value.stop_batch


def test_a_server_that_went_away_mid_batch_is_reconnected_to_next_time(smtp_server, smtp_settings, mailbox):
    with SmtpTransport(smtp_settings) as transport:
        transport.send(_message(n=1))
        smtp_server.stop()
        with pytest.raises(TemporaryError) as caught:
            transport.send(_message(n=2))
        assert caught.value.stop_batch
        smtp_server.start()
        transport.send(_message(n=3))
    assert [d.message["Subject"] for d in mailbox.messages()] == ["Bericht 1", "Bericht 3"]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        message = "the openssl command is needed to make a test certificate"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
         "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_server(certificate):
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"mas", b"geheim")
        logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    # PLAIN only: after a failed PLAIN, smtplib's LOGIN (with an initial response) and
    # aiosmtpd's wait for each other until the timeout.
    server = SmtpServer(Mailbox(), tls_context=server_context, require_starttls=True, authenticator=authenticator,
                        auth_required=True, auth_exclude_mechanism=["LOGIN"])
    server.start()
    server.logins = logins
    yield server
    server.stop()


def test_starttls_and_login_when_configured(tls_server, certificate):
    client_context = ssl.create_default_context(cafile=str(certificate[0]))
    settings = tls_server.settings(starttls=True, user="mas", password="geheim")
    with SmtpTransport(settings, ssl_context=client_context) as transport:
        transport.send(_message())
    assert len(tls_server.mailbox.messages()) == 1
    assert [ok for _mechanism, ok in tls_server.logins] == [True]


def test_a_wrong_password_is_temporary_not_the_message_s_fault(tls_server, certificate):
    client_context = ssl.create_default_context(cafile=str(certificate[0]))
    settings = tls_server.settings(starttls=True, user="mas", password="fout")
    with SmtpTransport(settings, ssl_context=client_context) as transport, pytest.raises(TemporaryError) as caught:
        transport.send(_message())
    assert caught.value.stop_batch and "535" in str(caught.value)
    assert tls_server.mailbox.messages() == []


def test_without_starttls_a_server_that_requires_it_refuses(tls_server):
    with SmtpTransport(tls_server.settings()) as transport, pytest.raises(TemporaryError):
        transport.send(_message())
    assert tls_server.mailbox.messages() == []


def test_the_folder_keeps_each_message_as_an_eml_file(tmp_path):
    with FolderTransport(tmp_path / "mail") as transport:
        transport.send(_message(n=7))
    [path] = (tmp_path / "mail").iterdir()
    assert path.name == "20260303T090000Z-bericht7.eml"
    stored = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert stored["Message-ID"] == "<bericht7@127.0.0.1>"
    assert "één, twee" in stored.get_content()


def test_transport_for_picks_smtp_only_when_a_host_is_set(tmp_path, smtp_settings):
    without = load_settings(environ={}, env="test", instance_dir=tmp_path / "instance")
    folder = transport_for(without)
    assert isinstance(folder, FolderTransport) and folder.path == tmp_path / "instance" / "mail"
    with_host = load_settings(environ={}, env="test", instance_dir=tmp_path / "instance", smtp=smtp_settings)
    with transport_for(with_host) as smtp:
        assert isinstance(smtp, SmtpTransport)


def test_a_real_mail_server_can_never_be_reached(tmp_path):
    settings = load_settings(environ={"MAS_SMTP_HOST": "smtp.example.nl"}, env="test", instance_dir=tmp_path)
    with transport_for(settings) as transport, pytest.raises(AssertionError, match="smtp.example.nl"):
        transport.send(_message())


def test_message_dates_name_the_file_in_utc(tmp_path):
    message = _message(n=8)
    del message["Date"]
    message["Date"] = email.utils.format_datetime(datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc))
    assert FolderTransport(tmp_path).filename(message) == "20260701T233000Z-bericht8.eml"
