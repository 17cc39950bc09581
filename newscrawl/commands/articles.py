"""``scrapy articles``: search the store, show one story, print statistics.

Three subcommands (``search``, ``show``, ``stats``) as the first argument, because
Scrapy gives a command one argument parser; options that do not apply to a subcommand
are an error rather than silently ignored. Exit statuses: 0 done, 1 the database
failed or ``show`` found nothing, 2 bad arguments, 130 interrupted (Ctrl-C, as shells
report SIGINT). Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TextIO

from scrapy.commands import ScrapyCommand

from newscrawl import output
from newscrawl.logs import redact
from newscrawl.network import DEFAULT_SITES_PATH, Network, RegistryError
from newscrawl.store import query, stats
from newscrawl.store.engine import display_url
from newscrawl.store.query import Database as Engine

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
SUBCOMMANDS = ("search", "show", "stats")
DEFAULT_LIMITS = {"search": 50, "stats": 10}
FILTER_OPTIONS = ("site", "section", "author", "since", "until", "paywall")
ALLOWED = {
    "search": {*FILTER_OPTIONS, "limit"},
    "show": set(),
    "stats": {"site", "since", "until", "limit"},
}
SEARCH_TABLE = ("published_at", "site", "title", "url")


class CommandError(Exception):
    """Ends the command with one line on stderr and ``status``."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def _one_line_error(message: str) -> NoReturn:
    # Replaces argparse's usage-plus-message (exit 2) for malformed options.
    print(f"newscrawl: error: {redact(message)}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}  # noqa: RUF012 - Scrapy's class attribute

    def syntax(self) -> str:
        return "search [WORDS...] | show URL|ID | stats [days|sections|authors|syndicated|runs]"

    def short_desc(self) -> str:
        return "Search the article database, show a story, print statistics"

    def long_desc(self) -> str:
        return (
            "search: full-text search (no words: the latest articles), with filters. "
            "show: one story by URL, online id or row id, with its publications and versions. "
            "stats: articles per day and site, per section, top authors, stories on more than "
            "one portal, last crawl runs. Output as a table, JSON lines or CSV."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.error = _one_line_error  # type: ignore[method-assign]
        group = parser.add_argument_group(title="Articles options")
        add = group.add_argument
        # Values are parsed in run(), not by argparse types, so that a bad one is a
        # newscrawl one-line error naming the option.
        add("--database", metavar="URL", help="database URL (default: NEWSCRAWL_DATABASE_URL)")
        add("--format", default="table", metavar="FORMAT", help="table (default), jsonl or csv")
        add("--output", metavar="FILE", help="write to FILE instead of stdout")
        add("--site", metavar="DOMAIN", help="only articles of this portal, e.g. fr.de")
        add("--section", metavar="NAME", help="only articles in this section (search)")
        add("--author", metavar="NAME", help="only articles by this author (search)")
        add("--since", metavar="WHEN", help="published at or after: ISO date or 6h, 2d")
        add("--until", metavar="WHEN", help="published at or before: ISO date (whole day)")
        add("--paywall", metavar="yes|no", help="only paid (yes) or free (no) articles (search)")
        add("--limit", metavar="N", help="rows (search: 50; stats: 10 per table, days for days)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            self._run(args, opts)
        except CommandError as exc:
            self._fail(str(exc), exc.status)
        except query.QueryError as exc:
            self._fail(str(exc), EXIT_USAGE)
        except query.DatabaseUnusable as exc:
            self._fail(str(exc), EXIT_FAILED)
        except query.DATABASE_ERRORS as exc:
            if query.is_interrupted(exc):
                self._interrupted()
            else:
                self._fail(f"database {self._url_shown}: {_first_line(exc)}", EXIT_FAILED)
        except BrokenPipeError:
            # The reader (head, less) went away: not an error. Point stdout at devnull so
            # the interpreter's final flush does not raise again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except KeyboardInterrupt:
            self._interrupted()

    _url_shown = "?"

    def _interrupted(self) -> None:
        # Ctrl-C is the way out of a slow query, not a crash: no traceback.
        print("newscrawl: interrupted", file=sys.stderr)
        self.exitcode = EXIT_INTERRUPTED

    def _fail(self, message: str, status: int) -> None:
        print(f"newscrawl: error: {redact(message)}", file=sys.stderr)
        self.exitcode = status

    def _run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise CommandError("give a subcommand: search, show or stats (scrapy articles -h)")
        subcommand, rest = args[0], args[1:]
        if subcommand not in SUBCOMMANDS:
            raise CommandError(f"unknown subcommand {subcommand!r}; use search, show or stats")
        unknown = [arg for arg in rest if arg.startswith("-")]
        if unknown:
            message = f"unknown option {unknown[0]}"
            if subcommand == "search":
                message += ", to leave out a word quote the query: 'Ambrosia -Pollen'"
            raise CommandError(message)
        given = [name for name in (*FILTER_OPTIONS, "limit") if getattr(opts, name) is not None]
        misplaced = [name for name in given if name not in ALLOWED[subcommand]]
        if misplaced:
            raise CommandError(f"--{misplaced[0]} does not apply to {subcommand}")
        if opts.format not in output.FORMATS:
            raise CommandError(f"unknown format {opts.format!r}; use table, jsonl or csv")
        engine = self._engine(opts.database)
        try:
            handler = getattr(self, f"_{subcommand}")
            handler(engine, rest, opts)
        finally:
            engine.dispose()

    def _engine(self, url: str | None) -> Engine:
        assert self.settings is not None
        parsed = query.parse_database_url(url or self.settings.get("NEWSCRAWL_DATABASE_URL"))
        self._url_shown = display_url(parsed)
        return query.open_database(parsed)

    def _filters(self, engine: Engine, opts: argparse.Namespace) -> query.Filters:
        site = None
        if opts.site is not None:
            site = query.check_site(opts.site, engine, self._registry_domains())
        return query.Filters(
            site=site,
            section=opts.section,
            author=opts.author,
            since=query.parse_since_arg(opts.since) if opts.since is not None else None,
            until=query.parse_until_arg(opts.until) if opts.until is not None else None,
            paywall=query.parse_paywall_arg(opts.paywall) if opts.paywall is not None else None,
        )

    def _registry_domains(self) -> list[str]:
        assert self.settings is not None
        try:
            return Network.load(self.settings.get("NEWSCRAWL_SITES") or DEFAULT_SITES_PATH).domains
        except RegistryError as exc:
            raise CommandError(str(exc)) from None

    def _limit(self, subcommand: str, opts: argparse.Namespace) -> int:
        if opts.limit is None:
            return DEFAULT_LIMITS[subcommand]
        return query.parse_limit_arg(opts.limit)

    def _search(self, engine: Engine, words: list[str], opts: argparse.Namespace) -> None:
        limit = self._limit("search", opts)
        filters = self._filters(engine, opts)
        rows = query.find_articles(engine, words, filters, limit)
        with _opened(opts.output) as out:
            output.write_rows(
                rows,
                opts.format,
                out,
                columns=query.ARTICLE_COLUMNS,
                table_columns=SEARCH_TABLE,
                widths={"title": output.TITLE_WIDTH},
            )

    def _show(self, engine: Engine, refs: list[str], opts: argparse.Namespace) -> None:
        if len(refs) != 1:
            raise CommandError("show takes one URL or article id: scrapy articles show 93036630")
        if opts.format == "csv":
            raise CommandError("show prints a table or jsonl, not csv")
        story = query.find_story(engine, refs[0])
        if story is None:
            raise CommandError(f"no article {refs[0]} in the database", EXIT_FAILED)
        table = opts.format == "table"
        # As a table, the parts get blocks of their own after the story, not a JSON line.
        article = story.article
        if table:
            article = {k: v for k, v in article.items() if k not in query.PART_COLUMNS}
        with _opened(opts.output) as out:
            output.write_story(
                article,
                story.urls,
                story.versions,
                opts.format,
                out,
                url_columns=query.URL_COLUMNS,
                version_columns=query.VERSION_COLUMNS,
            )
            if table:
                out.write(parts_blocks(story.article))

    def _stats(self, engine: Engine, names: list[str], opts: argparse.Namespace) -> None:
        unknown = [name for name in names if name not in stats.STAT_TABLES]
        if unknown:
            raise CommandError(
                f"unknown statistic {unknown[0]!r}; use {', '.join(stats.STAT_TABLES)}"
            )
        tables = list(dict.fromkeys(names)) or list(stats.STAT_TABLES)
        limit = self._limit("stats", opts)
        result = stats.stats(engine, self._filters(engine, opts), limit, tables)
        with _opened(opts.output) as out:
            output.write_stats(result, opts.format, out)


def parts_blocks(article: dict[str, Any]) -> str:
    """The fact boxes, tables and ticker entries of a story as text blocks (none: "")."""
    blocks: list[str] = []
    if article.get("boxes"):
        lines = [f"boxes ({len(article['boxes'])}):"]
        for box in article["boxes"]:
            lines += ([f"[{box['title']}]"] if box.get("title") else []) + [box["text"], ""]
        blocks.append("\n".join(lines))
    if article.get("tables"):
        lines = [f"tables ({len(article['tables'])}):"]
        for table in article["tables"]:
            lines += [f"[{table['caption']}]"] if table.get("caption") else []
            lines += [" | ".join(row) for row in table["rows"]] + [""]
        blocks.append("\n".join(lines))
    if article.get("ticker"):
        lines = [f"ticker ({len(article['ticker'])}):"]
        for entry in article["ticker"]:
            heading = f"  [{entry['headline']}]" if entry.get("headline") else ""
            lines += [f"{entry.get('time') or '(no time)'}{heading}", entry["text"], ""]
        blocks.append("\n".join(lines))
    return "".join(f"\n{block}" for block in blocks)


@contextmanager
def _opened(path: str | None) -> Iterator[TextIO]:
    if path is None or path == "-":
        yield sys.stdout
        # Flushed here, inside run(), so a closed pipe is caught there and not at exit.
        sys.stdout.flush()
        return
    try:
        # newline="" so the csv module's line endings are written as they are.
        handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle


def _first_line(exc: Any) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
