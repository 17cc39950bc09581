"""``scrapy articles``: search the store, show one story, print statistics.

Three subcommands (``search``, ``show``, ``stats``) as the first argument, because
Scrapy gives a command one argument parser; options that do not apply to a subcommand
are an error rather than silently ignored. Exit statuses: 0 done, 1 the database
failed or ``show`` found nothing, 2 bad arguments, 130 interrupted (Ctrl-C, as shells
report SIGINT). Every error is one line on stderr. What each subcommand does is
``newscrawl.cli.reading``, shared with ``newscrawl search|show|stats``.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from scrapy.commands import ScrapyCommand

from newscrawl.cli import reading
from newscrawl.cli.reading import EXIT_USAGE, CommandError, Reading
from newscrawl.logs import redact

SUBCOMMANDS = ("search", "show", "stats")
FILTER_OPTIONS = ("site", "section", "author", "since", "until", "paywall")
ALLOWED = {
    "search": {*FILTER_OPTIONS, "limit"},
    "show": set(),
    "stats": {"site", "since", "until", "limit"},
}


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
            subcommand, rest = self._check(args, opts)
        except CommandError as exc:
            self.exitcode = reading.fail(str(exc), exc.status)
            return
        assert self.settings is not None
        options = Reading(
            database=opts.database or self.settings.get("NEWSCRAWL_DATABASE_URL"),
            format=opts.format,
            output=opts.output,
            **{name: getattr(opts, name) for name in (*FILTER_OPTIONS, "limit")},
            sites_file=self.settings.get("NEWSCRAWL_SITES") or None,
        )
        if subcommand == "search":
            action = reading.search(options, rest)
        elif subcommand == "show":
            if len(rest) != 1:
                message = "show takes one URL or article id: scrapy articles show 93036630"
                self.exitcode = reading.fail(message, EXIT_USAGE)
                return
            action = reading.show(options, rest[0])
        else:
            action = reading.statistics(options, rest)
        self.exitcode = reading.run(options, action)

    def _check(self, args: list[str], opts: argparse.Namespace) -> tuple[str, list[str]]:
        """The subcommand and its words, if the options fit it (else ``CommandError``)."""
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
        return subcommand, rest
