"""``newscrawl``, installed as a user installs it, run as a user runs it.

The session builds a fresh virtual environment and ``pip install``s a copy of the project
into it (``--no-deps --no-build-isolation``: the tests may not reach PyPI), so that the
``newscrawl`` script is the one pip writes from ``[project.scripts]`` and the package is
the installed one, not this checkout. The environment is made ``--without-pip`` (its
bundled setuptools would shadow the pinned one) and sees the test environment's packages
through a .pth file, the dependencies pip was told not to install; ``--system-site-packages``
would give the interpreter's base packages, not this environment's. Every command runs in
an empty folder: no scrapy.cfg, no checkout on the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.crawling import stored_articles
from tests.mocknet import MockNetwork
from tests.portal_history import fill_history
from tests.test_query import AMBROSIA_COPY, fill

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-pw"
READ_ONLY = ("scrapy", "twisted", "alembic")


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with newscrawl installed by pip; its bin folder."""
    base = tmp_path_factory.mktemp("cli")
    source = base / "source"
    for name in ("pyproject.toml", "requirements.txt", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "newscrawl", source / "newscrawl", ignore=shutil.ignore_patterns("__pycache__")
    )
    target = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    python = target / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", str(source)],
        capture_output=True, text=True, env=_env(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return target / "bin"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.pop("NEWSCRAWL_DATABASE_URL", None)
    env.pop("NEWSCRAWL_SITES", None)
    return {**env, **extra}


def newscrawl(venv: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "newscrawl"), *args],
        cwd=cwd, capture_output=True, text=True, env=_env(**env), timeout=240,
    )  # fmt: skip


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('clidb')}/news.db"
    fill(url)
    return url


def test_the_command_is_the_installed_package(venv: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(venv / "python"), "-c", "import newscrawl; print(newscrawl.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env=_env(), check=True,
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
    from datetime import UTC, datetime

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
    from datetime import UTC, datetime

    url = f"sqlite:///{tmp_path}/news.db"
    fill_history(url, datetime.now(UTC))
    done = newscrawl(venv, tmp_path, "health", "--days", "14", "-d", url)
    assert (done.returncode, done.stderr) == (0, "")
    assert [line.split()[0] for line in done.stdout.splitlines()] == [
        "site", "---------", "fr.de", "merkur.de"
    ]  # fmt: skip
    assert [line.rsplit(None, 1)[-1] for line in done.stdout.splitlines()[2:]] == ["ok", "ok"]


def test_reading_commands_import_no_scrapy_twisted_or_alembic(
    venv: Path, tmp_path: Path, database: str
) -> None:
    script = (
        "import sys\n"
        "from newscrawl.cli.main import main\n"
        "try:\n"
        f"    main({['search', 'Ambrosia', '-d', database]!r})\n"
        "except SystemExit as exit:\n"
        "    status = exit.code\n"
        f"print(status, sorted(m for m in sys.modules if m.split('.')[0] in {READ_ONLY!r}))\n"
    )
    done = subprocess.run(
        [str(venv / "python"), "-c", script],
        cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=60,
    )  # fmt: skip
    assert done.stderr == ""
    assert "Warum Ambrosia in deutschen Gärten zur Bedrohung wird" in done.stdout
    assert done.stdout.splitlines()[-1] == "0 []"


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


SCRAPY = str(Path(sys.executable).with_name("scrapy"))
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
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=_env(),
    )  # fmt: skip
    assert installed.returncode == checkout.returncode == 2
    last = installed.stderr.splitlines()[-1]
    assert last.startswith("newscrawl: error: unknown site nope.de; known sites: merkur.de, ")
    assert last == checkout.stderr.splitlines()[-1]
