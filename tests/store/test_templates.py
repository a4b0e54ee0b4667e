"""Message templates: subject and body from one file, operators' copies by name, no silent blanks."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from store import templates


def test_first_line_is_the_subject_and_an_operators_copy_replaces_the_shipped_one(tmp_path, monkeypatch):
    shipped = templates.names()
    assert "late_file" in shipped and "batch_failure" in shipped
    monkeypatch.setenv("SPOOLGATE_TEMPLATES", str(tmp_path))
    (tmp_path / "late_file.txt.j2").write_text("Late: {{ file }}\n\nThe file {{ file }} did not come.\n")
    assert templates.render("late_file", file="RET.ach") == ("Late: RET.ach", "The file RET.ach did not come.\n")
    assert templates.renderer("late_file")(file="X") == ("Late: X", "The file X did not come.\n")
    assert templates.names() == shipped  # the listing is what ships, whatever the operator copied


def test_a_missing_value_is_an_error_never_a_blank(tmp_path, monkeypatch):
    monkeypatch.setenv("SPOOLGATE_TEMPLATES", str(tmp_path))
    (tmp_path / "late_file.txt.j2").write_text("Late: {{ file }}\n")
    with pytest.raises(UndefinedError):
        templates.render("late_file")
    with pytest.raises(UndefinedError):
        templates.renderer("late_file")()


@pytest.mark.parametrize("source", [
    "Late: {{ file }}\n\nThe file {{ file }} did not come.\n",  # text and names: joined without Jinja
    "Late: {{ file | upper }}\n{% if n %}{{ n }} times{% endif %}\n",  # filters and blocks: Jinja
    "{{ file }}\n{# a comment #}{{ n }}",
])
def test_the_compiled_renderer_renders_what_jinja_renders(tmp_path, monkeypatch, source):
    monkeypatch.setenv("SPOOLGATE_TEMPLATES", str(tmp_path))
    (tmp_path / "late_file.txt.j2").write_text(source)
    for values in ({"file": "RET.ach", "n": 3}, {"file": 12.5, "n": 0}, {"file": None, "n": "x"}):
        assert templates.renderer("late_file")(**values) == templates.render("late_file", **values)
