"""The database the ``scrapy articles`` tests read, and how they run the command.

Five stories written through ``write_batch`` (one syndicated to a second portal and later
updated: a version) and two crawl runs, on SQLite and on PostgreSQL (``tests/dbs.py``:
PostgreSQL is skipped only outside CI); the command run in this process through Scrapy's
own entry point (``Articles``, the ``cli`` fixture) or as the real executable
(``scrapy_articles``). A pytest plugin of ``tests/conftest.py``: its fixtures
(``database``, ``sqlite_database``, ``pg_database``, ``empty_database``, ``cli``) are
every test module's.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy.cmdline import execute
from sqlalchemy import insert

from newscrawl.store import make_engine, migrate, write_batch
from newscrawl.store.models import CrawlRun

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = str(Path(sys.executable).with_name("scrapy"))

AMBROSIA_URL = (
    "https://www.fr.de/ratgeber/wohnen/"
    "ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html"
)
AMBROSIA_COPY = (
    "https://www.merkur.de/ratgeber/wohnen/"
    "ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html"
)
NORDKOREA_URL = (
    "https://www.fr.de/politik/kim-jong-un-nordkorea-bilder-diktator-donald-trump-zr-13680734.html"
)
MUSK_URL = "https://www.24auto.de/news/elon-musk-putin-clubhouse-talk-tesla-90205362.html"
HOCHBEET_URL = "https://www.merkur.de/ratgeber/garten/hochbeet-anlegen-fehler-zr-93035001.html"
WIESN_URL = "https://www.tz.de/muenchen/stadt/wiesn-2024-bierpreis-masskrug-zr-93034002.html"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _item(url: str, site: str, article_id: str, **fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "url": url,
        "site": site,
        "fetched_url": url,
        "fetched_site": site,
        "article_id": article_id,
        "language": "de",
        "publisher": "Ippen Digital",
    }
    item.update(fields)
    item["word_count"] = len(item["text"].split())
    return item


AMBROSIA_TEXT = (
    "Ursprünglich stammt Ambrosia, auch als Traubenkraut bekannt, aus Nordamerika.\n"
    "Dennoch breiten sich einige Arten dieser Pflanze invasiv in deutschen Gärten aus."
)
AMBROSIA = _item(
    AMBROSIA_URL, "fr.de", "93036630",
    title="Warum Ambrosia in deutschen Gärten zur Bedrohung wird",
    lead="Ambrosia breitet sich in deutschen Gärten aus und kann gesundheitliche Schäden "
    "verursachen.",
    text=AMBROSIA_TEXT,
    authors=["Simone Jung"], section=["Ratgeber", "Wohnen"], keywords=["Ambrosia", "Garten"],
    paywall=False,
    published_at=_at("2024-04-26T20:44:00+02:00"),
    modified_at=_at("2024-04-26T20:44:00+02:00"),
    fetched_at=_at("2024-04-27T06:00:00+00:00"),
)  # fmt: skip
NORDKOREA = _item(
    NORDKOREA_URL, "fr.de", "13680734",
    title="Kim Jong Un: Der Diktator ist zurück - Donald Trump ist „glücklich“",
    lead="Kim Jong Un taucht nach Wochen wieder auf.",
    text="Die Bilder, die das beweisen sollen, erfreuen Donald Trump.\n"
    "Er sendet Grüße nach Nordkorea.",
    authors=["FR mit dpa"], section=["Politik"], keywords=["Nordkorea", "Donald Trump"],
    paywall=False,
    published_at=_at("2020-05-04T09:12:00+02:00"),
    fetched_at=_at("2024-04-27T06:01:00+00:00"),
)  # fmt: skip
MUSK = _item(
    MUSK_URL, "24auto.de", "90205362",
    title="Elon Musk möchte Spitzengespräch mit Wladimir Putin",
    lead="Jetzt hat er Russlands Präsidenten Wladimir Putin zu einem öffentlichen "
    "Clubhouse-Talk eingeladen.",
    text="Palo Alto (Kalifornien) – Immer für eine Überraschung gut: Tesla-CEO Elon Musk hat "
    "das offizielle Kreml-Konto markiert.",
    authors=["Christian Schulz"], section=["News"], keywords=["Elon Musk", "Clubhouse"],
    published_at=_at("2021-02-15T14:30:00+01:00"),
    fetched_at=_at("2024-04-27T06:02:00+00:00"),
)  # fmt: skip
HOCHBEET = _item(
    HOCHBEET_URL, "merkur.de", "93035001",
    title="Hochbeet anlegen: Diese fünf Fehler sollten Sie vermeiden",
    lead="Wer im Frühjahr ein Hochbeet anlegt, sollte auf die richtige Füllung achten.",
    text="Ein Hochbeet schont den Rücken und bringt früher Ernte.\n"
    "Falsch befüllt sackt die Erde aber schnell ab.",
    authors=["Simone Jung", "Anna Lorenz"], section=["Ratgeber", "Garten"],
    keywords=["Hochbeet"], paywall=True,
    published_at=_at("2024-04-26T07:15:00+00:00"),
    fetched_at=_at("2024-04-27T06:03:00+00:00"),
)  # fmt: skip
WIESN = _item(
    WIESN_URL, "tz.de", "93034002",
    title="Wiesn 2024: So teuer wird die Maß Bier auf dem Oktoberfest",
    lead="Die Wirte haben ihre Bierpreise für das Oktoberfest bekanntgegeben.",
    text="Die Maß kostet auf der Wiesn 2024 bis zu 15,30 Euro.\n"
    "Das ist ein Plus von knapp vier Prozent.",
    authors=["Sophia Lother"], section=["München", "Stadt"], keywords=["Oktoberfest"],
    published_at=_at("2024-04-25T16:00:00+00:00"),
    fetched_at=_at("2024-04-27T06:04:00+00:00"),
)  # fmt: skip
# The merkur.de copy of the fr.de story: same online id, canonical naming fr.de.
AMBROSIA_ON_MERKUR = {
    **AMBROSIA,
    "fetched_url": AMBROSIA_COPY,
    "fetched_site": "merkur.de",
    "fetched_at": _at("2024-04-27T09:00:00+00:00"),
}
AMBROSIA_UPDATED = {
    **AMBROSIA,
    "text": AMBROSIA_TEXT + "\nDie Pollen lösen schon in kleinen Mengen Allergien aus.",
    "modified_at": _at("2024-04-28T05:30:00+00:00"),
    "fetched_at": _at("2024-04-28T06:00:00+00:00"),
}
RUNS = [
    {
        "started_at": _at("2024-04-27T06:00:00+00:00"),
        "finished_at": _at("2024-04-27T06:20:00+00:00"),
        "spider": "ippen", "arguments": {}, "sites": [], "status": "finished",
        "new": 5, "updated": 0, "unchanged": 0, "duplicates": 1, "failed": 0,
    },
    {
        "started_at": _at("2024-04-28T06:00:00+00:00"),
        "finished_at": _at("2024-04-28T06:03:00+00:00"),
        "spider": "ippen", "arguments": {"sites": "fr.de"}, "sites": ["fr.de"],
        "status": "failed", "new": 0, "updated": 1, "unchanged": 1, "duplicates": 0, "failed": 2,
    },
]  # fmt: skip


def fill(url: str) -> None:
    """Migrate and fill the database at ``url`` the way crawls would."""
    engine = make_engine(url)
    try:
        migrate(engine)
        first = write_batch(engine, [AMBROSIA, NORDKOREA, MUSK, HOCHBEET, WIESN])
        assert first.counts()["new"] == 5, first.outcomes
        copy = write_batch(engine, [AMBROSIA_ON_MERKUR])
        assert copy.counts()["duplicate"] == 1, copy.outcomes
        update = write_batch(engine, [AMBROSIA_UPDATED])
        assert update.counts()["updated"] == 1, update.outcomes
        with engine.begin() as conn:
            conn.execute(insert(CrawlRun), RUNS)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('query')}/news.db"
    fill(url)
    return url


@pytest.fixture(scope="module")
def pg_database(pg_url: str) -> str:
    fill(pg_url)
    return pg_url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """A filled database per backend, shared by the module's tests (they only read)."""
    fixture = {"sqlite": "sqlite_database", "postgresql": "pg_database"}[request.param]
    url: str = request.getfixturevalue(fixture)
    return url


@pytest.fixture(scope="module")
def empty_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('empty')}/news.db"
    migrate(url)
    return url


@dataclass(frozen=True)
class Run:
    status: int | str | None
    stdout: str
    stderr: str


class Articles:
    """``scrapy articles ARGS`` run in this process through ``scrapy.cmdline.execute``.

    That function is the whole ``scrapy`` script: it finds the project from scrapy.cfg in
    the current directory, loads the settings, builds the command's parser and ends with
    ``sys.exit``. Only the interpreter start-up and the imports are skipped.
    """

    def __call__(self, *args: str) -> Run:
        stdout, stderr = io.StringIO(), io.StringIO()
        with redirect_stdout(stdout), redirect_stderr(stderr), pytest.raises(SystemExit) as end:
            execute(["scrapy", "articles", *args])
        return Run(end.value.code, stdout.getvalue(), stderr.getvalue())

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert (result.status, result.stderr) == (0, ""), result.stderr
        return result.stdout


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Articles:
    monkeypatch.chdir(ROOT)
    # execute() sets SCRAPY_SETTINGS_MODULE (from scrapy.cfg) and appends to sys.path for
    # the whole process. Set-then-delete: unset during the test, so scrapy.cfg is really
    # read, and put back as it was before the test afterwards.
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "")
    monkeypatch.delenv("SCRAPY_SETTINGS_MODULE")
    monkeypatch.setattr(sys, "path", [*sys.path])
    return Articles()


def scrapy_articles(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real executable, for the few tests of what only a new process shows."""
    return subprocess.run(
        [SCRAPY, "articles", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


SHOW_TAIL = """\
published_at        2024-04-26T18:44:00+00:00
modified_at         2024-04-28T05:30:00+00:00
first_seen_at       2024-04-27T06:00:00+00:00
fetched_at          2024-04-28T06:00:00+00:00
"""
SHOW_BLOCKS = f"""\
text:
{AMBROSIA_UPDATED["text"]}

publications (2):
first_seen_at     last_seen_at      site       article_id  url
----------------  ----------------  ---------  ----------  --------------------------------------------------------------------------------------------------------------------------------
2024-04-27 06:00  2024-04-28 06:00  fr.de      93036630    https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html
2024-04-27 09:00  2024-04-27 09:00  merkur.de  93036630    https://www.merkur.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-pflanze-erkennen-bekaempfen-zr-93036630.html

versions (1):
id  fetched_at        modified_at       title
--  ----------------  ----------------  -----------------------------------------------------
1   2024-04-27 06:00  2024-04-26 18:44  Warum Ambrosia in deutschen Gärten zur Bedrohung wird
"""  # noqa: E501


SHOW_REFS = ["93036630", "1", AMBROSIA_URL, AMBROSIA_COPY, AMBROSIA_COPY + "?utm_source=x#top"]


def check_show_table(output: str) -> None:
    head, blocks = output.split("\n\n", 1)
    assert head.splitlines()[:5] == [
        "id                  1",
        f"url                 {AMBROSIA_URL}",
        "site                fr.de",
        "article_id          93036630",
        f"title               {AMBROSIA['title']}",
    ]
    assert SHOW_TAIL in head + "\n"
    assert "paywall             no" in head.splitlines()
    assert blocks == SHOW_BLOCKS


UNREACHABLE_URL = "postgresql://crawler:s3cret@127.0.0.1:1/news"
UNREACHABLE_ERROR = (
    "newscrawl: error: database postgresql+psycopg://crawler:***@127.0.0.1:1/news: "
    'connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
)
