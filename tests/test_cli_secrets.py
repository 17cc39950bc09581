"""No command prints the password of a malformed database URL (issue 17, item 7), and
``newscrawl crawl`` is ``scrapy crawl ippen`` outside a checkout: the installed command
(``tests/installed.py``) and the checkout's ``scrapy``/``python -m`` forms."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawling import stored_articles
from tests.installed import ROOT, SCRAPY, clean_env, newscrawl
from tests.mocknet import MockNetwork

SECRET = "s3cr3t-pw"


MALFORMED = [
    (
        f"postgresql+psycopg//user:{SECRET}@host/db",
        "not a database URL: postgresql+psycopg//user:***@host/db",
    ),
    (
        f"postgresql+psycopg://user@{SECRET}@host/db",
        "not a database URL: postgresql+psycopg://user@***@host/db (an '@' in the user name: "
        "write user:password@host, and %40 for an '@' inside either)",
    ),
]
NEWSCRAWL_COMMANDS = [
    ["crawl", "-s", "LOG_LEVEL=ERROR"], ["search", "x"], ["show", "1"], ["stats"],
    ["export"], ["health"], ["db", "upgrade"], ["db", "index"],
]  # fmt: skip


@pytest.mark.parametrize(("url", "message"), MALFORMED)
@pytest.mark.parametrize("command", NEWSCRAWL_COMMANDS, ids=" ".join)
def test_newscrawl_never_prints_the_password_of_a_malformed_url(
    venv: Path, tmp_path: Path, command: list[str], url: str, message: str
) -> None:
    done = newscrawl(venv, tmp_path, *command, NEWSCRAWL_DATABASE_URL=url)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == f"newscrawl: error: {message}"
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize(("url", "message"), MALFORMED)
def test_database_option_is_masked_too(venv: Path, tmp_path: Path, url: str, message: str) -> None:
    for command in (["search", "--database", url], ["crawl", "--database", url]):
        done = newscrawl(venv, tmp_path, *command)
        assert done.returncode == 2
        assert done.stderr.splitlines()[-1] == f"newscrawl: error: {message}"
        assert SECRET not in done.stdout + done.stderr


CHECKOUT_COMMANDS = [
    ([SCRAPY, "crawl", "ippen", "-s", "LOG_LEVEL=ERROR"], "newscrawl: error: "),
    ([SCRAPY, "articles", "search", "x"], "newscrawl: error: "),
    ([sys.executable, "-m", "newscrawl.store", "upgrade"], "error: "),
]


@pytest.mark.parametrize(("url", "message"), MALFORMED)
@pytest.mark.parametrize(("command", "prefix"), CHECKOUT_COMMANDS, ids=lambda c: str(c)[-30:])
def test_the_checkout_commands_never_print_it_either(
    command: list[str], prefix: str, url: str, message: str
) -> None:
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NEWSCRAWL_DATABASE_URL": url},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == prefix + message
    assert SECRET not in done.stdout + done.stderr


@pytest.mark.parametrize(("url", "shown"), [
    (f"postgresql+psycopg//user:{SECRET}@host/db", "postgresql+psycopg//user:***@host/db"),
    (f"postgresql+psycopg://user@{SECRET}@host/db", "postgresql+psycopg://user@***@host/db"),
    (f"postgresql://user:{SECRET}@host/db", "postgresql://user:***@host/db"),
])  # fmt: skip
def test_scrapy_settings_masks_the_database_url(url: str, shown: str) -> None:
    done = subprocess.run(
        [SCRAPY, "settings", "--get", "NEWSCRAWL_DATABASE_URL"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "NEWSCRAWL_DATABASE_URL": url},
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, shown + "\n", "")


def test_crawl_runs_outside_a_checkout_and_writes_metrics(
    venv: Path, tmp_path: Path, mock_network: MockNetwork
) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    metrics = tmp_path / "textfile" / "newscrawl.prom"
    done = newscrawl(
        venv, tmp_path, "crawl", "--database", url,
        "-s", f"NEWSCRAWL_SITES={mock_network.registry_path}",
        "-s", f"NEWSCRAWL_DEADLETTER_PATH={tmp_path / 'deadletter.jsonl'}",
        "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"LOG_FILE={tmp_path / 'crawl.log'}",
        "-s", f"NEWSCRAWL_METRICS_FILE={metrics}",
    )  # fmt: skip
    log = (tmp_path / "crawl.log").read_text()
    assert done.returncode == 0, done.stderr[-2000:] + log[-3000:]
    assert len(stored_articles(url)) == len(mock_network.expected_urls) == 30
    lines = metrics.read_text().splitlines()
    assert 'newscrawl_stat{spider="ippen",key="newscrawl/store/new"} 30' in lines
    assert lines[-1] == 'newscrawl_finish_reason{spider="ippen",reason="finished"} 1'
    assert [path.name for path in metrics.parent.iterdir()] == ["newscrawl.prom"]


def test_crawl_arguments_fail_as_scrapy_crawl_does(venv: Path, tmp_path: Path) -> None:
    installed = newscrawl(venv, tmp_path, "crawl", "--sites", "nope.de")
    checkout = subprocess.run(
        [SCRAPY, "crawl", "ippen", "-a", "sites=nope.de"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=clean_env(),
    )  # fmt: skip
    assert installed.returncode == checkout.returncode == 2
    last = installed.stderr.splitlines()[-1]
    assert last.startswith("newscrawl: error: unknown site nope.de; known sites: merkur.de, ")
    assert last == checkout.stderr.splitlines()[-1]
