"""The project owns its test data: a clone with nothing beside it runs its tests.

A user's clone has no material folder beside it (the development machines' ``shared``); tests
that read it passed here and failed there. This clones the committed tree into an empty
folder and runs the tests that read fixture pages: every one collected must pass.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The tests that read real pages (extraction, link reading, the mock network's templates).
FIXTURE_TESTS = [
    "tests/test_extract.py",
    "tests/test_spider_links.py",
    "tests/test_extract_stories.py",
]
SOURCE_FILES = ("*.py", "*.toml", "*.cfg", "*.ini", "*.txt")


def _git(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_nothing_in_the_project_reads_the_shared_folder() -> None:
    readers = [
        str(path.relative_to(REPO))
        for pattern in SOURCE_FILES
        for path in REPO.rglob(pattern)
        if ".venv" not in path.parts
        and path != Path(__file__)
        and re.search(r"""["']\.\.["']\s*/\s*["']shared|\.\./shared""", path.read_text("utf-8"))
    ]
    assert readers == []


def test_a_clone_with_nothing_beside_it_passes_the_fixture_tests(tmp_path: Path) -> None:
    if shutil.which("git") is None or _git("rev-parse", "HEAD").returncode != 0:
        pytest.skip("not a git checkout: nothing to clone")
    clone = tmp_path / "newscrawl"
    assert _git("clone", "--quiet", str(REPO), str(clone)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["newscrawl"]

    collected = _pytest(REPO, "--collect-only", *FIXTURE_TESTS)
    count = re.search(r"(\d+) tests? collected", collected.stdout)
    assert count, collected.stdout[-2000:]
    run = _pytest(clone, *FIXTURE_TESTS)
    assert run.returncode == 0, run.stdout[-4000:]
    assert re.search(rf"\b{count.group(1)} passed\b", run.stdout), run.stdout[-2000:]
    assert "skipped" not in run.stdout.splitlines()[-1]
