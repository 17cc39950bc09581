"""What the reading commands do, once their arguments are parsed: shared by ``newscrawl
search|show|stats`` (click) and ``scrapy articles`` (Scrapy's argparse), so that the two
command lines only parse and this module alone opens the database, runs the query, writes
the output and turns every failure into one line and an exit status.

Exit statuses: 0 done, 1 the database failed or ``show`` found nothing, 2 bad arguments
(a malformed database URL among them), 130 interrupted (Ctrl-C, as shells report SIGINT).
Nothing here imports Scrapy, Twisted or Alembic: ``newscrawl search`` must start fast. The
store (SQLAlchemy, a third of a second of CPU) is imported by the functions that query it,
not by this module: ``newscrawl --help`` and ``newscrawl sites`` never need it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from newscrawl import output
from newscrawl.network import DEFAULT_SITES_PATH, Network, RegistryError

if TYPE_CHECKING:
    from newscrawl.store.query import Database, Filters

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULT_LIMITS = {"search": 50, "stats": 10}
SEARCH_TABLE = ("published_at", "site", "title", "url")


class CommandError(Exception):
    """Ends the command with one line on stderr and ``status``."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reading:
    """The options of a reading command, as the user typed them (parsed here, so that a
    bad value is the same one-line error whichever command line it came from)."""

    database: str | None = None
    format: str = "table"
    output: str | None = None
    site: str | None = None
    section: str | None = None
    author: str | None = None
    since: str | None = None
    until: str | None = None
    paywall: str | None = None
    limit: str | None = None
    sites_file: str | None = None
    """The portal registry (``NEWSCRAWL_SITES``); None: the one shipped with newscrawl."""

    def filters(self, engine: Database) -> Filters:
        from newscrawl.store import query

        site = None
        if self.site is not None:
            site = query.check_site(self.site, engine, registry(self.sites_file).domains)
        return query.Filters(
            site=site,
            section=self.section,
            author=self.author,
            since=query.parse_since_arg(self.since) if self.since is not None else None,
            until=query.parse_until_arg(self.until) if self.until is not None else None,
            paywall=query.parse_paywall_arg(self.paywall) if self.paywall is not None else None,
        )

    def row_limit(self, command: str) -> int:
        from newscrawl.store import query

        if self.limit is None:
            return DEFAULT_LIMITS[command]
        return query.parse_limit_arg(self.limit)


def registry(path: str | None) -> Network:
    """The portal registry at ``path`` (None or empty: the shipped one); ``CommandError``."""
    try:
        return Network.load(path or DEFAULT_SITES_PATH)
    except RegistryError as exc:
        raise CommandError(str(exc)) from None


def run(reading: Reading, action: Callable[[Database], None]) -> int:
    """Open the database of ``reading``, call ``action`` with it, and return the exit
    status; every failure is one line on stderr, passwords masked."""
    from newscrawl.store import query
    from newscrawl.store.engine import display_url

    shown = "?"
    try:
        if reading.format not in output.FORMATS:
            raise CommandError(f"unknown format {reading.format!r}; use table, jsonl or csv")
        parsed = query.parse_database_url(reading.database)
        shown = display_url(parsed)
        engine = query.open_database(parsed)
        try:
            action(engine)
        finally:
            engine.dispose()
    except CommandError as exc:
        return fail(str(exc), exc.status)
    except query.QueryError as exc:
        return fail(str(exc), EXIT_USAGE)
    except query.DatabaseUnusable as exc:
        return fail(str(exc), EXIT_FAILED)
    except query.DATABASE_ERRORS as exc:
        if query.is_interrupted(exc):
            return interrupted()
        return fail(f"database {shown}: {first_line(exc)}", EXIT_FAILED)
    except BrokenPipeError:
        # The reader (head, less) went away: not an error. Point stdout at devnull so
        # the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except KeyboardInterrupt:
        return interrupted()
    return EXIT_OK


def fail(message: str, status: int) -> int:
    from newscrawl.store.engine import redact

    print(f"newscrawl: error: {redact(message)}", file=sys.stderr)
    return status


def interrupted() -> int:
    # Ctrl-C is the way out of a slow query, not a crash: no traceback.
    print("newscrawl: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def first_line(exc: Any) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


@contextmanager
def opened(path: str | None, binary: bool = False) -> Iterator[IO[Any]]:
    """``path`` for writing, or stdout for None and ``-``; ``CommandError`` if it cannot be."""
    if path is None or path == "-":
        stream = sys.stdout.buffer if binary else sys.stdout
        yield stream
        # Flushed here, inside run(), so a closed pipe is caught there and not at exit.
        stream.flush()
        return
    try:
        # newline="" so the csv module's line endings are written as they are.
        handle = open(path, "wb") if binary else open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle


# --- the three reading commands of `scrapy articles` -------------------------------------


def search(reading: Reading, words: list[str]) -> Callable[[Database], None]:
    def action(engine: Database) -> None:
        from newscrawl.store import query

        limit = reading.row_limit("search")
        rows = query.find_articles(engine, words, reading.filters(engine), limit)
        with opened(reading.output) as out:
            output.write_rows(
                rows,
                reading.format,
                out,
                columns=query.ARTICLE_COLUMNS,
                table_columns=SEARCH_TABLE,
                widths={"title": output.TITLE_WIDTH},
            )

    return action


def show(reading: Reading, ref: str) -> Callable[[Database], None]:
    def action(engine: Database) -> None:
        from newscrawl.store import query

        if reading.format == "csv":
            raise CommandError("show prints a table or jsonl, not csv")
        story = query.find_story(engine, ref)
        if story is None:
            raise CommandError(f"no article {ref} in the database", EXIT_FAILED)
        table = reading.format == "table"
        # As a table, the parts get blocks of their own after the story, not a JSON cell.
        article = story.article
        if table:
            article = {k: v for k, v in article.items() if k not in query.PART_COLUMNS}
        with opened(reading.output) as out:
            output.write_story(
                article,
                story.urls,
                story.versions,
                reading.format,
                out,
                url_columns=query.URL_COLUMNS,
                version_columns=query.VERSION_COLUMNS,
            )
            if table:
                out.write(output.parts_blocks(story.article))

    return action


def check_stat_names(names: list[str]) -> list[str]:
    """The tables asked for, in order, once each; none: all of them."""
    from newscrawl.store import stats

    unknown = [name for name in names if name not in stats.STAT_TABLES]
    if unknown:
        raise CommandError(f"unknown statistic {unknown[0]!r}; use {', '.join(stats.STAT_TABLES)}")
    return list(dict.fromkeys(names)) or list(stats.STAT_TABLES)


def statistics(reading: Reading, names: list[str]) -> Callable[[Database], None]:
    def action(engine: Database) -> None:
        from newscrawl.store import stats

        tables = check_stat_names(names)
        limit = reading.row_limit("stats")
        result = stats.stats(engine, reading.filters(engine), limit, tables)
        with opened(reading.output) as out:
            output.write_stats(result, reading.format, out)

    return action
