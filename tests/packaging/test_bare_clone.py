"""A clone of the repository alone runs the suite: no test reads outside it.

The suite's PostgreSQL half runs against a throwaway server (tests/pgserver.py), and the
corpora live in tests/data; these tests keep it that way.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

OUTSIDE = re.compile(r"""(\.\./shared|["']\.\.["']\s*/\s*["']shared["']|Path\(["']/(work|home|root|srv|opt)/)""")


def _tracked_python() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "tests", "bench"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.split()
    return [REPO / p for p in out if p.endswith(".py")]


def test_no_test_or_bench_reads_outside_the_repository() -> None:
    files = _tracked_python()
    assert len(files) > 50, "git ls-files found too few files: is this a git checkout?"
    offenders = [f"{p.relative_to(REPO)}:{n}: {line.strip()}"
                 for p in files if p.name != Path(__file__).name
                 for n, line in enumerate(p.read_text().splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []


@pytest.mark.slow
def test_corpus_tests_pass_in_a_bare_clone(tmp_path: Path) -> None:
    """Clone HEAD into a folder with nothing beside it and run the corpus-reading tests there."""
    git = shutil.which("git")
    assert git, "git is missing"
    clone = tmp_path / "lonely" / "spoolgate"
    subprocess.run([git, "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True, timeout=120)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPOOLGATE_", "PYTEST_")) and k != "CI"}
    env["PYTHONPATH"] = str(clone)
    tests = ["tests/formats/nacha/test_corpus.py", "tests/formats/nacha/test_cli.py", "tests/formats/pbs"]
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
                       cwd=clone, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert re.search(r"\d+ passed", r.stdout), r.stdout[-500:]
    imported = subprocess.run([sys.executable, "-c", "import formats, tests; print(formats.__file__, tests.__file__)"],
                              cwd=clone, env=env, capture_output=True, text=True, check=True).stdout
    assert imported.count(str(clone)) == 2, imported
