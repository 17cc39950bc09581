"""End to end: a live crawl that keeps its responses as WARC, killed with SIGKILL, leaves
an archive of complete records that the next crawl seals and both readers read."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastwarc.warc as fastwarc
from warcio.archiveiterator import ArchiveIterator

from newscrawl.archive.files import RotatingWarcFiles, complete_length
from tests.crawling import REPO_ROOT, crawl_command


def test_a_crawl_killed_with_sigkill_leaves_only_complete_records(
    mock_network_factory: Any, tmp_path: Path
) -> None:
    net = mock_network_factory(articles_per_portal=60, seed=2)
    warc_dir = tmp_path / "warc"
    command = crawl_command(
        net.registry_path, f"sqlite:///{tmp_path / 'news.db'}", tmp_path, tmp_path / "crawl.log",
        "-s", f"NEWSCRAWL_WARC_DIR={warc_dir}",
    )  # fmt: skip
    # Its own process group, as in test_cluster_e2e: the SIGKILL takes the extraction pool
    # and the writer with it (a kill of the crawl process alone leaves them running).
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            open_files = list(warc_dir.glob("*.warc.gz.open")) if warc_dir.exists() else []
            if open_files and open_files[0].stat().st_size > 300_000:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the crawl ended before it had written 300 kB"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    (left,) = warc_dir.iterdir()
    assert left.name.endswith(".warc.gz.open")
    kept = complete_length(left)
    (sealed,) = RotatingWarcFiles(warc_dir, 10**9, datetime.now(UTC)).seal_leftovers()
    assert sealed.stat().st_size == kept
    with sealed.open("rb") as stream:
        kinds = Counter(r.rec_type for r in ArchiveIterator(stream, check_digests=True))
    assert kinds["warcinfo"] == 1
    assert kinds["response"] >= 10
    # a kill between the two records of a pair leaves the response without its request
    assert kinds["response"] - kinds["request"] in (0, 1)
    fast = fastwarc.ArchiveIterator(
        str(sealed), record_types=fastwarc.WarcRecordType.response, verify_digests=True
    )
    assert sum(1 for _ in fast) == kinds["response"]
