"""The session's end check (tests/leftovers.py) fails a run that leaves a process behind,
and only then: each case runs pytest with the plugin on a small test file of its own."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.crawling import REPO_ROOT
from tests.leftovers import SESSION_MARK, has_mark
from tests.proctree import PROC


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (b"PATH=/bin\0NEWSCRAWL_TEST_SESSION=abc\0HOME=/root\0", True),
        (b"NEWSCRAWL_TEST_SESSION=abc", True),
        (b"NEWSCRAWL_TEST_SESSION=abcd\0", False),  # another session
        (b"X_NEWSCRAWL_TEST_SESSION=abc\0", False),
        (b"PATH=/bin\0", False),
        (b"", False),
    ],
)
def test_the_session_mark_is_one_exact_environment_entry(environ: bytes, expected: bool) -> None:
    assert SESSION_MARK == "NEWSCRAWL_TEST_SESSION"
    assert has_mark(environ, "abc") is expected


CASES = {
    "child": "subprocess.Popen(['sleep', '300'])",
    # sh exits at once: its sleep is re-parented and no longer below the session
    "orphan": "subprocess.run(['sh', '-c', 'sleep 300 >/dev/null 2>&1 &'], check=True)",
    "none": "process = subprocess.Popen(['sleep', '300']); process.kill(); process.wait()",
}


def run_session(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_case.py"
    test_file.write_text(f"import subprocess\n\n\ndef test_case():\n    {body}\n")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.leftovers",
         "--leftover-grace=1", str(test_file)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("case", ["child", "orphan"])
def test_a_session_that_leaves_a_process_fails_naming_it_and_kills_it(
    case: str, tmp_path: Path
) -> None:
    result = run_session(tmp_path, CASES[case])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    report = result.stdout.split("the test session left 1 process(es) behind (now killed):\n")
    assert len(report) == 2, result.stdout
    line = re.fullmatch(r"  (\d+) \(parent \d+\): sleep 300", report[1].splitlines()[0])
    assert line is not None, report[1]
    cmdline = PROC / line[1] / "cmdline"
    deadline = time.monotonic() + 10
    while cmdline.exists() and cmdline.read_bytes() == b"sleep\x00300\x00":
        assert time.monotonic() < deadline, "the leftover was not killed"
        time.sleep(0.05)


def test_a_session_that_cleans_up_passes(tmp_path: Path) -> None:
    result = run_session(tmp_path, CASES["none"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left" not in result.stdout
