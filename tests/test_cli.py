"""``newscrawl``, installed as a user installs it (``tests/installed.py``: pip into a fresh
virtual environment), run as a user runs it, from an empty folder: every subcommand's help,
the registry, the reading commands' exact output on a test database, health's verdict and
exit status, and what a reading command imports."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.installed import clean_env, newscrawl
from tests.portal_history import fill_history
from tests.query_data import AMBROSIA_COPY, fill

# Not imported by the reading commands: the crawl's (and the extraction's) start-up.
READ_ONLY = ("scrapy", "twisted", "alembic", "trafilatura", "htmldate")


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('clidb')}/news.db"
    fill(url)
    return url


def test_the_command_is_the_installed_package(venv: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(venv / "python"), "-c", "import newscrawl; print(newscrawl.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env=clean_env(), check=True,
    )  # fmt: skip
    assert done.stdout.startswith(str(venv.parent / "lib"))
    assert (venv / "newscrawl").read_text().startswith(f"#!{venv / 'python'}")
    version = newscrawl(venv, tmp_path, "--version")
    assert (version.returncode, version.stdout, version.stderr) == (0, "newscrawl 0.1.0\n", "")


@pytest.mark.parametrize(
    "command",
    ["", "crawl", "search", "show", "stats", "export", "sites", "health", "db", "db upgrade",
     "db index", "db reimport"],
)  # fmt: skip
def test_every_subcommand_has_help_with_examples(venv: Path, tmp_path: Path, command: str) -> None:
    done = newscrawl(venv, tmp_path, *command.split(), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Usage: newscrawl {command}".rstrip() + " ")
    assert "Example" in done.stdout
    assert done.stderr == ""


REGISTRY = """
[[sites]]
domain = "fr.de"
name = "Frankfurter Rundschau"
base_url = "https://www.fr.de"
feeds = ["/rssfeed.rdf"]
sitemaps = ["/news.xml", "/sitemap-index.xml"]

[[sites]]
domain = "tz.de"
name = "tz"
base_url = "https://www.tz.de"
"""


def test_sites_lists_the_registry(venv: Path, tmp_path: Path) -> None:
    (tmp_path / "sites.toml").write_text(REGISTRY)
    done = newscrawl(venv, tmp_path, "sites", "--sites-file", "sites.toml")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "domain  name                   base_url           feeds  sitemaps  start_pages\n"
        "------  ---------------------  -----------------  -----  --------  -----------\n"
        "fr.de   Frankfurter Rundschau  https://www.fr.de  1      2         1\n"
        "tz.de   tz                     https://www.tz.de  0      0         1\n"
    )
    shipped = newscrawl(venv, tmp_path, "sites", "--format", "csv")
    assert shipped.stdout.splitlines()[1] == "merkur.de,Münchner Merkur,https://www.merkur.de,1,2,1"


def test_a_malformed_registry_is_one_line_and_status_2(venv: Path, tmp_path: Path) -> None:
    (tmp_path / "sites.toml").write_text("[[sites]\n")
    done = newscrawl(venv, tmp_path, "sites", NEWSCRAWL_SITES="sites.toml")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "newscrawl: error: sites registry sites.toml is not valid TOML: "
        "Expected ']]' at the end of an array declaration (at line 1, column 8)\n"
    )


def test_search_prints_a_table(venv: Path, tmp_path: Path, database: str) -> None:
    done = newscrawl(venv, tmp_path, "search", "--site", "fr.de", "--since", "2024-01-01",
                     "-d", database)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "published_at      site   title                                                  url\n"
        "----------------  -----  -----------------------------------------------------  "
        + "-"
        * 124
        + "\n"
        "2024-04-26 18:44  fr.de  Warum Ambrosia in deutschen Gärten zur Bedrohung wird  "
        "https://www.fr.de/ratgeber/wohnen/ambrosia-giftig-garten-allergische-reaktionen-"
        "pflanze-erkennen-bekaempfen-zr-93036630.html\n"
    )


def test_show_finds_a_story_by_its_copy(venv: Path, tmp_path: Path, database: str) -> None:
    done = newscrawl(venv, tmp_path, "show", AMBROSIA_COPY, "--format", "jsonl",
                     NEWSCRAWL_DATABASE_URL=database)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    story = json.loads(done.stdout)
    assert (story["article_id"], story["site"], story["authors"]) == (
        "93036630",
        "fr.de",
        ["Simone Jung"],
    )
    assert [(url["site"], url["url"]) for url in story["urls"]] == [
        ("fr.de", story["url"]), ("merkur.de", AMBROSIA_COPY)
    ]  # fmt: skip
    assert [version["title"] for version in story["versions"]] == [
        "Warum Ambrosia in deutschen Gärten zur Bedrohung wird"
    ]


def test_stats_prints_the_tables_asked_for(venv: Path, tmp_path: Path, database: str) -> None:
    done = newscrawl(venv, tmp_path, "stats", "sections", "authors", "--limit", "3",
                     "-d", database)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "Articles per section\n\n"
        "section   articles\n"
        "--------  --------\n"
        "Ratgeber  2\n"
        "München   1\n"
        "News      1\n"
        "\nTop authors\n\n"
        "author            articles\n"
        "----------------  --------\n"
        "Simone Jung       2\n"
        "Anna Lorenz       1\n"
        "Christian Schulz  1\n"
    )


def test_export_jsonl_and_csv(venv: Path, tmp_path: Path, database: str) -> None:
    columns = "article_id,site,authors,paywall,published_at"
    done = newscrawl(venv, tmp_path, "export", "--columns", columns, "--site", "fr.de",
                     "-d", database)  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        '{"article_id": "93036630", "site": "fr.de", "authors": ["Simone Jung"], '
        '"paywall": false, "published_at": "2024-04-26T18:44:00+00:00"}\n'
        '{"article_id": "13680734", "site": "fr.de", "authors": ["FR mit dpa"], '
        '"paywall": false, "published_at": "2020-05-04T07:12:00+00:00"}\n'
    )
    done = newscrawl(venv, tmp_path, "export", "-f", "csv", "--columns", columns,
                     "--until", "2021-12-31", "-o", "old.csv", "-d", database)  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert (tmp_path / "old.csv").read_text() == (
        "article_id,site,authors,paywall,published_at\n"
        '13680734,fr.de,"[""FR mit dpa""]",false,2020-05-04T07:12:00+00:00\n'
        '90205362,24auto.de,"[""Christian Schulz""]",,2021-02-15T13:30:00+00:00\n'
    )


def test_export_parquet_has_every_story(venv: Path, tmp_path: Path, database: str) -> None:
    import pyarrow.parquet as pq

    done = newscrawl(venv, tmp_path, "export", "-f", "parquet", "-o", "s.parquet", "-d", database)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    table = pq.read_table(tmp_path / "s.parquet")
    assert table.num_rows == 5
    assert sorted(table.column("article_id").to_pylist()) == [
        "13680734", "90205362", "93034002", "93035001", "93036630"
    ]  # fmt: skip


def test_health_flags_a_portal_whose_stories_lost_their_authors(venv: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/news.db"
    fill_history(url, datetime.now(UTC), authors_lost_on="fr.de")
    done = newscrawl(venv, tmp_path, "health", "-f", "csv", "-d", url)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "newscrawl: flagged: fr.de\n"
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "site,per_day,usual_per_day,authors_pct,usual_authors_pct,dated_pct,usual_dated_pct,"
        "lead_pct,usual_lead_pct,median_words,usual_median_words,status"
    )
    fr, merkur = (line.split(",") for line in lines[1:])
    assert fr[:9] == ["fr.de", "3.0", "3.0", "0", "100", "100", "100", "100", "100"]
    assert fr[-1] == "authors on 0% of stories (usually 100%)"
    assert merkur[:9] == ["merkur.de", "3.0", "3.0", "100", "100", "100", "100", "100", "100"]
    assert merkur[-1] == "ok"


def test_health_of_a_healthy_store_is_status_0(venv: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/news.db"
    fill_history(url, datetime.now(UTC))
    done = newscrawl(venv, tmp_path, "health", "--days", "14", "-d", url)
    assert (done.returncode, done.stderr) == (0, "")
    assert [line.split()[0] for line in done.stdout.splitlines()] == [
        "site", "---------", "fr.de", "merkur.de"
    ]  # fmt: skip
    assert [line.rsplit(None, 1)[-1] for line in done.stdout.splitlines()[2:]] == ["ok", "ok"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["search", "Ambrosia"], "Warum Ambrosia in deutschen Gärten zur Bedrohung wird"),
        (["show", "93036630"], "Warum Ambrosia in deutschen Gärten zur Bedrohung wird"),
        (["stats"], "fr.de"),
    ],
)
def test_reading_commands_import_no_scrapy_twisted_alembic_or_extraction(
    venv: Path, tmp_path: Path, database: str, command: list[str], expected: str
) -> None:
    script = (
        "import sys\n"
        "from newscrawl.cli.main import main\n"
        "try:\n"
        f"    main({[*command, '-d', database]!r})\n"
        "except SystemExit as exit:\n"
        "    status = exit.code\n"
        f"print(status, sorted(m for m in sys.modules if m.split('.')[0] in {READ_ONLY!r}))\n"
    )
    done = subprocess.run(
        [str(venv / "python"), "-c", script],
        cwd=tmp_path, capture_output=True, text=True, env=clean_env(), timeout=60,
    )  # fmt: skip
    assert done.stderr == ""
    assert expected in done.stdout
    assert done.stdout.splitlines()[-1] == "0 []"
