"""The example config shows every channel: each inbound handler has a route and a sample file."""

from __future__ import annotations

from handlers.registry import known_handlers
from store.config import load
from tests.support import REPO

#: handlers the example leaves out on purpose, with the reason
LEFT_OUT = {"checkfree.decrypt": "the PGP stage needs keys; samples go straight to checkfree/in/bd",
            "test.archive": "a test-only handler (tests/handlers_for_tests.py), never in a real config"}


def test_every_inbound_handler_is_routed_and_has_an_example(tmp_path) -> None:
    settings = load(REPO / "etc/spoolgate.example.toml", base_dir=str(tmp_path))
    routed = {r.handler: name for name, ch in settings.channels.items() for r in ch.routes}
    assert set(known_handlers()) - set(LEFT_OUT) == set(routed)
    samples = {p.parent.name for p in (REPO / "examples").glob("*/*") if p.is_file()}
    assert set(settings.channels) <= samples
