"""Bad input: one line and exit 2, never a traceback: ``-a since=`` out of the calendar,
a malformed registry, query strings shaped like SQL or FTS syntax on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crawling import crawl
from tests.mocknet import MockNetwork
from tests.query_data import AMBROSIA_URL, jsonl, scrapy_articles

# FTS5 / tsquery syntax a user may type is searched as plain words, never a syntax error:
# operators and punctuation alone find nothing in the fixture store, and a word wrapped
# in them finds its story.
SYNTAX_SHAPED = [
    ("'\"'", []), ("AND OR", []), ("*", []), ("NEAR(", []), ("a:b", []),
    ("^", []), ('"Ambrosia', [AMBROSIA_URL]), ("Ambrosia)", [AMBROSIA_URL]),
    ("Ambrosia*", [AMBROSIA_URL]),
]  # fmt: skip


@pytest.mark.parametrize(("query", "urls"), SYNTAX_SHAPED)
def test_syntax_shaped_queries_are_plain_words(
    database: str,
    query: str,
    urls: list[str],
) -> None:
    done = scrapy_articles("search", query, "--format", "jsonl", "--database", database)
    assert "Traceback" not in done.stderr
    assert (done.returncode, [row["url"] for row in jsonl(done.stdout)]) == (0, urls)


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("99999999d", "since='99999999d' reaches outside the calendar"),
        ("99999-01-01", "since='99999-01-01' is neither an ISO date"),
        ("2024-13-45", "since='2024-13-45' is neither an ISO date"),
    ],
)
def test_a_bad_since_is_one_line_and_exit_2(
    mock_network: MockNetwork, tmp_path: Path, since: str, message: str
) -> None:
    done = crawl(mock_network.registry_path, f"sqlite:///{tmp_path / 'news.db'}", tmp_path,
                 "-a", f"since={since}")  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(f"newscrawl: error: {message}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr + done.log


def test_a_malformed_registry_is_one_line_and_exit_2(tmp_path: Path) -> None:
    registry = tmp_path / "sites.toml"
    registry.write_text('[[site]]\ndomain = "fr.de"\nbase_url = \n', encoding="utf-8")
    done = crawl(registry, f"sqlite:///{tmp_path / 'news.db'}", tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("newscrawl: error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr + done.log
