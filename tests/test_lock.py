"""The crawl lock: one crawl per database, released by the OS or the database with its holder."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from newscrawl.store.lock import LockHeld, crawl_lock

HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from newscrawl.store.lock import crawl_lock
    with crawl_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def hold_in_subprocess(url: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, url], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_second_holder_is_refused_until_the_first_dies(db_url: str) -> None:
    url = db_url
    holder = hold_in_subprocess(url)
    try:
        with (
            pytest.raises(LockHeld, match=r"another crawl .*is running on this database"),
            crawl_lock(url),
        ):
            pass
    finally:
        holder.kill()  # SIGKILL: no cleanup runs, as after a crash
        holder.wait()
    with crawl_lock(url):  # taken over, not obeyed forever
        pass


def test_sqlite_lock_names_the_holder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    holder = hold_in_subprocess(url)
    try:
        with pytest.raises(LockHeld, match=rf"\(pid {holder.pid}\)"), crawl_lock(url):
            pass
    finally:
        holder.kill()
        holder.wait()
