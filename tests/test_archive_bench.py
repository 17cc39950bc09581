"""The archive benchmark keeps working: a tiny run completes and imports every page.

No speed is asserted: the numbers are the benchmark's output, not a test's.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_tiny_archive_benchmark_imports_what_the_live_crawl_stored() -> None:
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_archive.py", "--articles", "20", "--repeat", "1"],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    rows = dict(re.findall(r"^(ippen-archive|naive import|live crawl) +(\d+) ", done.stdout, re.M))
    assert rows == {"ippen-archive": rows["live crawl"], "naive import": rows["live crawl"],
                    "live crawl": rows["live crawl"]}  # fmt: skip
    assert int(rows["live crawl"]) == 27  # 26 stories, one stored twice (copy and original)
    archive = r"^archive: 30 article responses \(27 stored pages\) \+ 8 records of other hosts"
    assert re.search(archive, done.stdout, re.M), done.stdout
    assert "ippen-archive / naive pages/s: " in done.stdout
    assert "work folder kept" not in done.stderr
