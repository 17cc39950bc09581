"""The benchmark command keeps working: a tiny run completes and stores every page.

No speed is asserted anywhere: the numbers are the benchmark's output, not a test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks._measure import measure
from tests.mocknet.spec import NetworkSpec

REPO = Path(__file__).resolve().parents[1]
ARTICLES = 50
PER_PORTAL = 13  # ceil(50 / 4 portals)


def test_the_reaper_counts_the_cpu_of_orphaned_grandchildren(tmp_path: Path) -> None:
    # The grandchild outlives its parent, like the extraction pool's forkserver outlives
    # the crawl process: plain RUSAGE_CHILDREN of the benchmark would never see its CPU.
    script = textwrap.dedent("""
        import os, time
        if os.fork() == 0:
            end = time.process_time() + 0.5
            while time.process_time() < end:
                pass
            os._exit(0)
        os._exit(0)
    """)
    out = tmp_path / "usage.json"
    command = [sys.executable, "-m", "benchmarks._reaper", str(out), sys.executable, "-c", script]
    subprocess.run(command, cwd=REPO, check=True, timeout=60)
    usage = json.loads(out.read_text())
    assert usage["returncode"] == 0
    assert usage["user"] + usage["sys"] >= 0.5


def test_workers_are_told_from_helpers_even_when_the_forkserver_is_seen_before_exec(
    tmp_path: Path,
) -> None:
    # The child is a forkserver only once it has exec'd; for its first half second it
    # shows its parent's command line. Its own child is then a worker, not a helper.
    server = (
        "import subprocess, sys, time; "
        "worker = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1)']); "
        "worker.wait()"
    )
    # The forkserver's marker is spelled in two halves here, so that only the exec'd
    # child's command line holds it, not this script's own.
    script = textwrap.dedent(f"""
        import os, sys, time
        child = os.fork()
        if child == 0:
            time.sleep(0.5)
            code = {server!r} + "  # multiprocessing" + ".forkserver"
            os.execv(sys.executable, [sys.executable, "-c", code])
        os.waitpid(child, 0)
    """)
    measured = measure([sys.executable, "-c", script], REPO, dict(os.environ),
                       tmp_path / "out.log", timeout=60)  # fmt: skip
    assert measured.returncode == 0
    assert sorted(measured.peaks.roles.values()) == ["forkserver", "main", "worker"]
    assert list(measured.peaks.workers) == [
        pid for pid, role in measured.peaks.roles.items() if role == "worker"
    ]


def test_a_tiny_benchmark_stores_every_page_in_both_databases(tmp_path: Path) -> None:
    out = tmp_path / "benchmark.json"
    command = [
        sys.executable, "benchmarks/run.py", "--articles", str(ARTICLES), "--repeat", "1",
        "--databases", "sqlite,postgresql", "--json", str(out),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=280)
    if result.returncode == 2 and "PostgreSQL" in result.stderr:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {result.stderr.strip()}")
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stderr

    expected = len(NetworkSpec(PER_PORTAL, seed=1, port=0).expected_urls)
    assert expected == 4 * PER_PORTAL + 6  # regular pages + the stored special cases
    data = json.loads(out.read_text())
    runs = {(c["crawler"], c["database"]): c for c in data["crawls"]}
    assert sorted(runs) == [("baseline", "postgresql"), ("baseline", "sqlite"),
                            ("newscrawl", "postgresql"), ("newscrawl", "sqlite")]  # fmt: skip
    for database in ("sqlite", "postgresql"):
        mine = runs["newscrawl", database]
        assert (mine["returncode"], mine["expected"], mine["stored"]) == (0, expected, expected)
        assert (mine["missing"], mine["unexpected"]) == (0, 0)
        assert mine["write_seconds"] > 0 and mine["worker_rss"] > 0
        # The naive baseline stores the syndicated copy under its own URL as well.
        baseline = runs["baseline", database]
        assert (baseline["missing"], baseline["stored"]) == (0, expected + 1)
    (ceiling,) = data["ceilings"]
    assert (ceiling["pages"], ceiling["extracted"]) == (expected, expected)
    assert "| newscrawl · postgresql |" in result.stdout
    assert f"| {expected}/{expected} |" in result.stdout
