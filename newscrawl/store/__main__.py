"""Command line of the store.

    python -m newscrawl.store upgrade [URL]
    python -m newscrawl.store index [URL]
    python -m newscrawl.store reimport [--database URL | --into URL] data/deadletter.jsonl
    python -m newscrawl.store reextract --warc DIR [--site S] [--since D] [--database URL]

URL defaults to ``NEWSCRAWL_DATABASE_URL`` or ``sqlite:///data/news.db``. ``reimport``
sends each dead letter home: to the database its line records (with the password of
``NEWSCRAWL_DATABASE_URL`` when that names the same database; else libpq's own, e.g.
``~/.pgpass``). ``--database`` must name that database; ``--into`` stores the items in
another one. The file is archived only when every item went in. The same as
``newscrawl db upgrade|index|reimport`` (``newscrawl.store.maintenance``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from newscrawl.store import maintenance


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newscrawl.store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    upgrade = commands.add_parser("upgrade", help="create or upgrade the database schema")
    upgrade.add_argument("url", nargs="?", help="database URL")
    index = commands.add_parser(
        "index", help="PostgreSQL: index stories a crawl left unindexed (it was cut short)"
    )
    index.add_argument("url", nargs="?", help="database URL")
    reimport = commands.add_parser("reimport", help="store the items of a dead-letter file")
    where = reimport.add_mutually_exclusive_group()
    where.add_argument("--database", help="the database the file was meant for")
    where.add_argument("--into", metavar="URL", help="store the items in this database instead")
    reimport.add_argument("path", help="dead-letter file (JSON lines)")
    again = commands.add_parser(
        "reextract", help="run the current extractor over the archived pages of stored stories"
    )
    again.add_argument("--warc", required=True, metavar="PATH[,PATH...]", help="WARC files")
    again.add_argument("--site", help="only stories of this portal (e.g. fr.de)")
    again.add_argument("--since", help="only stories fetched since (2024-04-26, 2d)")
    again.add_argument("--database", metavar="URL", help="database URL")
    args = parser.parse_args(argv)
    if args.command == "upgrade":
        return maintenance.guarded(lambda: maintenance.upgrade(args.url))
    if args.command == "index":
        return maintenance.guarded(lambda: maintenance.index(args.url))
    if args.command == "reextract":
        # Imported here: the runner brings Scrapy and the extractor, the others do not.
        from newscrawl.archive import reextract

        return maintenance.guarded(
            lambda: reextract.run(args.database, args.warc, args.site, args.since)
        )
    return maintenance.guarded(lambda: maintenance.reimport(args.path, args.database, args.into))


if __name__ == "__main__":
    sys.exit(main())
