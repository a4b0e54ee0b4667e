"""The SMTP sink and the TCP proxy fixtures do what later tests rely on."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

import pytest

from tests.fixtures.smtp import SmtpSink
from tests.fixtures.tcpproxy import TcpProxy


def _send(host: str, port: int, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = "spoolgate@example.test"
    msg["To"] = "ops@example.test"
    msg["Subject"] = subject
    msg.set_content("PBS delivery 42: receipt count mismatch (expected 10, accepted 9)")
    with smtplib.SMTP(host, port, timeout=5) as smtp:
        smtp.send_message(msg)


def test_smtp_sink_receives_and_survives_an_outage(smtp_server: SmtpSink):
    _send(smtp_server.host, smtp_server.port, "alert 1")
    [mail] = smtp_server.wait_for(1)
    assert mail.mail_from == "spoolgate@example.test" and mail.rcpt_tos == ("ops@example.test",)
    assert mail.message["Subject"] == "alert 1"
    assert "accepted 9" in mail.message.get_content()

    smtp_server.stop()
    with pytest.raises(OSError):
        _send(smtp_server.host, smtp_server.port, "lost")
    smtp_server.start()
    _send(smtp_server.host, smtp_server.port, "alert 2")
    assert [m.message["Subject"] for m in smtp_server.wait_for(2)] == ["alert 1", "alert 2"]


def _banner(host: str, port: int, timeout: float = 2.0) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as s:
        return s.recv(64)


def test_tcp_proxy_up_down_up(smtp_server: SmtpSink, tcp_proxy):
    proxy: TcpProxy = tcp_proxy(smtp_server.host, smtp_server.port)
    _send(proxy.host, proxy.port, "via proxy")

    held = smtplib.SMTP(proxy.host, proxy.port, timeout=5)
    try:
        held.noop()
        proxy.down("refuse")
        with pytest.raises(ConnectionRefusedError):
            _banner(proxy.host, proxy.port)
        with pytest.raises((smtplib.SMTPServerDisconnected, OSError)):
            held.noop()  # the connection in flight was cut
    finally:
        held.close()

    proxy.down("drop")
    try:
        assert _banner(proxy.host, proxy.port) == b""
    except ConnectionResetError:
        pass

    proxy.down("blackhole")
    with pytest.raises(TimeoutError):
        _banner(proxy.host, proxy.port, timeout=0.5)

    proxy.up()
    assert _banner(proxy.host, proxy.port).startswith(b"220 ")
    _send(proxy.host, proxy.port, "back")
    assert [m.message["Subject"] for m in smtp_server.wait_for(2)] == ["via proxy", "back"]
