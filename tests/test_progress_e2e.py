"""End to end: what ``scrapy crawl ippen`` shows while it runs, on a terminal and under cron.

Both crawls run the real command against the mock network, with a download delay per
portal (not randomised) so that each lasts at least ~2 s: the 0.1 s refresh and the
0.2 s log period then fire many times before the crawl ends, by construction.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import termios
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from newscrawl.store import make_engine
from newscrawl.store.models import Article, CrawlRun, RejectedPage
from tests.crawling import REPO_ROOT, crawl, crawl_command
from tests.mocknet import MockNetwork

SLOW = ("-s", "DOWNLOAD_DELAY=0.1", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False")
STATUS = re.compile(
    r"(?P<elapsed>\d+:\d\d:\d\d) \| (?P<pages>\d+) pages \(\d+\.\d/s\) \| "
    r"stories (?P<new>\d+) new, (?P<updated>\d+) updated"
    r"(?: \| \d+ queued)?(?: \| (?:[\w.-]+ \d+ \(\d+ new\)(?:, )?)+(?:, \+\d+ more)?)?"
)
COLUMNS = ("fetched", "new", "updated", "unchanged", "duplicates", "rejected", "failed",
           "failed sources")  # fmt: skip
# The mock network of the module fixture (seed 1, 6 articles a portal), crawled once into an
# empty store: what test_the_table_counts_what_the_mock_served_and_the_store_holds derives.
EXPECTED_TABLE = """\
portal         fetched  new  updated  unchanged  duplicates  rejected  failed  failed sources
-------------  -------  ---  -------  ---------  ----------  --------  ------  --------------
fr.de          17       6    0        0          0           0         0       0
merkur.de      21       10   0        0          0           0         0       0
extratipp.com  19       7    1        0          0           2         0       0
24auto.de      18       7    0        0          0           0         0       2
total          75       30   1        0          0           2         0       2"""


def report_of(text: str) -> str:
    """The per-portal table that follows "Per-portal report:" in a log or on a screen."""
    after = text.split("Per-portal report:\n", 1)[1].splitlines()
    return "\n".join(
        after[: next(i for i, line in enumerate(after) if line.startswith("total")) + 1]
    )


def table_rows(table: str) -> dict[str, dict[str, int]]:
    rows = {}
    for line in table.splitlines()[2:]:
        portal, *numbers = line.split()
        rows[portal] = dict(zip(COLUMNS, map(int, numbers), strict=True))
    return rows


# --- under cron: no terminal, a log file ---------------------------------------------------


@pytest.fixture(scope="module")
def cron_run(mock_network: MockNetwork, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    workdir = tmp_path_factory.mktemp("cron")
    db_url = f"sqlite:///{workdir / 'news.db'}"
    mock_network.reset_requests()
    result = crawl(mock_network.registry_path, db_url, workdir,
                   "-s", "NEWSCRAWL_PROGRESS_SECONDS=0.2", *SLOW)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:] + result.log[-3000:]
    return db_url, result, mock_network.requests()


def test_cron_logs_a_progress_line_every_period_instead_of_logstats(cron_run: tuple) -> None:
    _, result, _ = cron_run
    lines = [
        line for line in result.log.splitlines() if "[newscrawl.progress] INFO: Progress: " in line
    ]
    assert len(lines) >= 2, result.log[-3000:]
    statuses = [STATUS.fullmatch(line.split("Progress: ", 1)[1]) for line in lines]
    assert all(statuses), lines
    pages = [int(match["pages"]) for match in statuses if match]
    assert pages == sorted(pages) and pages[-1] > pages[0]
    assert not re.search(r"Crawled \d+ pages", result.log)  # LogStats is off
    assert result.stderr == ""  # no terminal, no live line


def test_cron_logs_the_table_before_the_stats_and_the_summary(cron_run: tuple) -> None:
    _, result, _ = cron_run
    log = result.log
    assert report_of(log) == EXPECTED_TABLE
    assert log.count("Per-portal report:") == 1
    report = log.index("[newscrawl.progress] INFO: Per-portal report:")
    assert report > log.rindex("Progress: ")
    assert report < log.index("Dumping Scrapy stats:") < log.index("newscrawl summary: new=30 ")


def test_the_table_counts_what_the_mock_served_and_the_store_holds(
    cron_run: tuple, mock_network: MockNetwork
) -> None:
    db_url, result, requests = cron_run
    spec, specials = mock_network.spec, mock_network.spec.specials
    domain = {portal.ip: portal.domain for portal in spec.portals}
    served = Counter(domain[request.ip] for request in requests)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        per_site = sa.select(Article.site, sa.func.count()).group_by(Article.site)
        stored = dict(conn.execute(per_site).all())
        per_site = sa.select(RejectedPage.site, sa.func.count()).group_by(RejectedPage.site)
        rejected = dict(conn.execute(per_site).all())
        run = conn.execute(sa.select(CrawlRun)).one()
    engine.dispose()
    bad_urls = (specials.broken_feed, specials.malformed_sitemap)
    bad_sources = Counter(domain[url.split("/")[2].split(":")[0]] for url in bad_urls)
    rows = table_rows(report_of(result.log))
    for portal in (p.domain for p in spec.portals):
        assert rows[portal] == {
            "fetched": served[portal],  # every response, robots.txt and redirects included
            "new": stored.get(portal, 0),  # an empty store: every story stored is new
            # the syndicated story is fetched on two portals (the fr.de copy names the
            # extratipp.com original as canonical): whichever is stored second updates the
            # first (its byline differs), and both count for the original's portal
            "updated": int(portal == "extratipp.com"),
            "unchanged": 0, "duplicates": 0, "failed": 0,
            "rejected": rejected.get(portal, 0),
            "failed sources": bad_sources[portal],
        }, portal  # fmt: skip
    total = rows["total"]
    assert (total["new"], total["updated"], total["failed"]) == (run.new, run.updated, run.failed)
    assert total["fetched"] == len(requests)
    assert set(rows) == {*(p.domain for p in spec.portals), "total"}


# --- on a terminal: a pseudo-terminal, the log on it --------------------------------------


def read_until_exit(process: subprocess.Popen[bytes], fd: int, timeout: float) -> bytes:
    """Everything the process writes to the terminal, until it exits (at most ``timeout``)."""
    output = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                chunk = b""
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    return bytes(output)


def screen_of(output: str) -> list[str]:
    """The lines a terminal would show at the end: just the controls rich's ``Live`` sends
    (carriage return, erase line, cursor up); other escape sequences are dropped."""
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", output):
        if token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif token == "\x1b[2K":
            lines[row] = ""
        elif re.fullmatch(r"\x1b\[\d*A", token):
            row = max(0, row - int(token[2:-1] or 1))
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return lines


@pytest.fixture(scope="module")
def terminal_run(mock_network: MockNetwork, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A crawl on a pseudo-terminal (stdin, stdout and stderr), its log there too."""
    workdir = tmp_path_factory.mktemp("terminal")
    command = crawl_command(mock_network.registry_path, f"sqlite:///{workdir / 'news.db'}",
                            workdir, workdir / "unused.log")  # fmt: skip
    log_file = command.index(f"LOG_FILE={workdir / 'unused.log'}")
    del command[log_file - 1 : log_file + 1]  # the log goes to the terminal
    command += ["-s", "NEWSCRAWL_PROGRESS_REFRESH=0.1", *SLOW]
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    # rich would believe these over the terminal itself
    overrides = {"COLUMNS", "LINES", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "FORCE_COLOR"}
    env = {key: value for key, value in os.environ.items() if key not in overrides}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=slave, stdout=slave,
                               stderr=slave, start_new_session=True)  # fmt: skip
    os.close(slave)
    try:
        output = read_until_exit(process, master, timeout=180)
        assert process.wait(timeout=30) == 0, output.decode(errors="replace")[-3000:]
    finally:
        os.close(master)
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait()
    return output.decode("utf-8", errors="replace")


def test_terminal_redraws_the_status_line_in_place(terminal_run: str) -> None:
    # Every redraw: back to the line's start, erase it, draw the line again.
    redraws = [
        m for m in re.findall(r"\r\x1b\[2K([^\r\n\x1b]*)", terminal_run) if STATUS.fullmatch(m)
    ]
    distinct = list(dict.fromkeys(redraws))
    assert len(distinct) >= 2, terminal_run[-3000:]
    pages = [int(STATUS.fullmatch(line)["pages"]) for line in distinct]  # type: ignore[index]
    assert pages == sorted(pages) and pages[-1] > pages[0]
    assert pages[-1] <= 75  # never more than the mock network serves


def test_terminal_log_lines_are_whole_and_the_line_leaves_no_trace(
    terminal_run: str, mock_network: MockNetwork
) -> None:
    screen = screen_of(terminal_run)
    specials = mock_network.spec.specials
    # Log records printed while the line showed are whole lines, each once.
    for tail in (
        "[scrapy.core.engine] INFO: Spider opened",
        f"[ippen] WARNING: Source failed (http_404): {specials.broken_feed}",
        f"[ippen] WARNING: Source failed (invalid_sitemap): {specials.malformed_sitemap}",
        "[scrapy.core.scraper] WARNING: Dropped: nothing to extract (binary): "
        + specials.binary_page,
        "[scrapy.core.engine] INFO: Closing spider (finished)",
    ):
        whole = re.compile(r"[\d-]+ [\d:]+ " + re.escape(tail))
        assert len([line for line in screen if whole.fullmatch(line)]) == 1, tail
    # The live line is gone at the end (transient), and no redraw is left inside a log line.
    assert not [line for line in screen if " pages (" in line and "/s) | stories " in line]
    # The table, then the stats, then the summary: the end of the screen.
    text = "\n".join(screen)
    assert report_of(text) == EXPECTED_TABLE
    assert text.index("Per-portal report:") < text.index("Dumping Scrapy stats:")
    assert re.search(r"\[newscrawl\] INFO: newscrawl summary: new=30 .* exit=0\n*\Z", text)
