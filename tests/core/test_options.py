"""Every registered handler and job refuses option keys it does not know (one shared check)."""

from __future__ import annotations

import pytest

from handlers.registry import handler_class, job_class, job_kinds, known_handlers
from store.config import Job as JobConfig
from store.config import Settings
from tests.support import archive_config


@pytest.fixture
def settings(tmp_path):
    return Settings(**archive_config(tmp_path, f"sqlite:///{tmp_path}/x.db"))


@pytest.mark.parametrize("name", sorted(known_handlers()))
def test_handler_reports_an_unknown_option(settings, name):
    cls = handler_class(name)
    problems = cls(settings, {"no_such_option": 1}).check_options()
    assert "unknown option 'no_such_option'" in problems
    assert not any("unknown option" in p for p in cls(settings, {}).check_options())


@pytest.mark.parametrize("kind", sorted(job_kinds()))
def test_job_reports_an_unknown_option(settings, kind):
    cls = job_class(kind)

    def problems(options):
        return cls(settings, "j", JobConfig(kind=kind, every="1 day", options=options)).check_options()

    assert "unknown option 'no_such_option'" in problems({"no_such_option": 1})
    assert not any("unknown option" in p for p in problems({}))
    for key in cls.known_options:
        assert f"unknown option {key!r}" not in problems({key: None})
