"""Datasette over the SQLite store (issue 17): it finds the search table, the shipped
metadata's facets and canned query work, and a real browser finds a story by a word of
its fact box.

A datasette server runs on a free loopback port over a test database; the browser is
Debian's chromium, headless, asked for the DOM of the search page once it has loaded
(``--dump-dom``): the page Datasette renders is the search result, no script needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from datasette.utils import detect_fts
from sqlalchemy import select

from newscrawl.store import make_engine, migrate, write_batch
from newscrawl.store.models import ArticleUrl
from tests.mocknet import stories
from tests.test_store_parts import BOX_ONLY_WORD, story_item

ROOT = Path(__file__).resolve().parents[1]
METADATA = ROOT / "datasette" / "metadata.yml"
DATASETTE = Path(sys.executable).with_name("datasette")
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)  # fmt: skip
START_TIMEOUT = 30.0
BROWSER_TIMEOUT = 90.0
EXPLAINER_TITLE = "Rente 2026: Was sich für Ruheständler jetzt ändert"
TICKER_TITLE = "Ukraine-Krieg aktuell: Selenskyj wirbt in Brüssel um neue Luftabwehr"


@pytest.fixture(scope="module")
def news_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """news.db with the explainer (also published on fr.de) and the ticker."""
    path = tmp_path_factory.mktemp("datasette") / "news.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    explainer = story_item(stories.EXPLAINER_ID)
    # The same story under the same id on another portal (the mock's fr.de address).
    copy_url = explainer["url"].replace("127.0.0.3", "127.0.0.2")
    copy = explainer | {"fetched_url": copy_url, "fetched_site": "fr.de"}
    write_batch(engine, [explainer, story_item(stories.TICKER_ID), copy])
    with engine.connect() as conn:
        sites = sorted(conn.execute(select(ArticleUrl.site)).scalars())
    engine.dispose()
    assert sites == ["fr.de", "fr.de", "merkur.de"]  # ticker, copy, explainer
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the process and everything it started (its own process group): chromium's
    helpers may outlive its main process."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def datasette(news_db: Path) -> Iterator[str]:
    """Base URL of a datasette server over ``news_db`` with the shipped metadata."""
    port = _free_port()
    command = [str(DATASETTE), "serve", "-i", str(news_db), "--host", "127.0.0.1",
               "--port", str(port), "--metadata", str(METADATA)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                _get(f"{base}/-/versions.json")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    stderr = process.stderr.read().decode() if process.poll() is not None else ""
                    pytest.fail(f"datasette did not start on {base}: {stderr[-500:]}")
                time.sleep(0.1)
        yield base
    finally:
        _stop(process)


def test_datasette_finds_the_search_table(news_db: Path) -> None:
    import sqlite3

    with sqlite3.connect(news_db) as conn:
        assert detect_fts(conn, "articles") == "articles_fts"


def test_search_facets_and_canned_query(datasette: str) -> None:
    found = json.loads(_get(
        f"{datasette}/news/articles.json?_search={BOX_ONLY_WORD}&_shape=objects&_col=title"
    ))  # fmt: skip
    assert [row["title"] for row in found["rows"]] == [EXPLAINER_TITLE]
    facets = json.loads(_get(f"{datasette}/news/articles.json"))["facet_results"]
    assert sorted(facets) == ["authors", "section", "site"]
    assert {r["value"]: r["count"] for r in facets["site"]["results"]} == {
        "fr.de": 1, "merkur.de": 1
    }  # fmt: skip
    several = json.loads(_get(f"{datasette}/news/stories_on_several_portals.json?_shape=array"))
    assert [(r["title"], r["portals"], sorted(r["sites"].split(","))) for r in several] == [
        (EXPLAINER_TITLE, 2, ["fr.de", "merkur.de"])
    ]


@pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true",
    reason="chromium is not installed (apt-get install -y chromium chromium-driver)",
)
def test_a_browser_finds_a_story_by_a_word_of_its_fact_box(datasette: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None, "CI=true: the browser test must run; install chromium"
    url = f"{datasette}/news/articles?_search={BOX_ONLY_WORD}"
    process = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", url],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        dom, _ = process.communicate(timeout=BROWSER_TIMEOUT)
    finally:
        _stop(process)
    page = dom.decode("utf-8")
    assert process.returncode == 0, page[-500:]
    assert f'1 row where search matches "{BOX_ONLY_WORD}"' in page, page[-2000:]
    assert EXPLAINER_TITLE in page and TICKER_TITLE not in page
