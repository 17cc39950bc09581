"""What a live ticker's history costs the store: bytes per update and per day of updates.

    python benchmarks/ticker_history.py [--updates 50] [--databases sqlite,postgresql]

Starts the mock network, fetches its ticker page over loopback, extracts it as the crawl
does (``extract_in_worker``) and stores it; then ``--updates`` times
``MockNetwork.update_article(TICKER_ID)`` (one new entry on top, ``dateModified`` five
minutes later), fetches once between updates and stores (one run each; the run's
``fetched_at`` five minutes after the one before). Before the updates the unchanged page
is stored twice more (those must cost nothing). Per database it prints the versions
kept, the history's bytes (the versions' title, lead and text; on disk: the table with
its indexes and, on PostgreSQL, its TOAST) per update and per day of updates at the mock's
rate of one update per five minutes (288 a day), and the last version's size (the cost of
one update grows with the ticker: every version is a full copy of the body then).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script, the repository root is not on sys.path

from sqlalchemy import Engine, LargeBinary, cast, func, literal, select, text  # noqa: E402

from benchmarks._databases import DEFAULT_PG_SERVER, KINDS, fresh_database  # noqa: E402
from newscrawl.pipelines.extract import extract_in_worker  # noqa: E402
from newscrawl.store import make_engine, migrate, write_batch  # noqa: E402
from newscrawl.store.models import ArticleVersion  # noqa: E402
from tests.mocknet import MockNetwork  # noqa: E402
from tests.mocknet.client import fetch  # noqa: E402
from tests.mocknet.stories import TICKER_ID, UPDATE_EVERY  # noqa: E402

PER_DAY = timedelta(days=1) // UPDATE_EVERY
FIRST_FETCH = datetime(2025, 10, 25, 20, 0, tzinfo=UTC)


def ticker_item(net: MockNetwork, fetched_at: datetime) -> dict[str, Any]:
    """The mock ticker as the crawl hands it to the store, fetched now over loopback."""
    meta = net.article(TICKER_ID)
    response = fetch(meta.url)
    if response.status != 200:
        raise SystemExit(f"the mock served {response.status} for {meta.url}")
    ok, fields = extract_in_worker(response.body, meta.url, "utf-8")
    if not ok:
        raise SystemExit(f"the ticker did not extract: {fields}")
    fields = {k: v for k, v in fields.items() if k not in ("canonical_url", "body_links")}
    return fields | {
        "url": meta.url, "site": meta.domain, "fetched_url": meta.url,
        "fetched_site": meta.domain, "article_id": TICKER_ID, "fetched_at": fetched_at,
    }  # fmt: skip


def history_bytes(engine: Engine) -> tuple[int, int, int, int]:
    """(versions, payload bytes, on-disk bytes, bytes of the newest version)."""
    postgres = engine.dialect.name == "postgresql"

    def utf8_bytes(column: Any) -> Any:
        value = func.coalesce(column, "")
        # SQLite's length() counts characters of a text, bytes of a BLOB.
        return func.octet_length(value) if postgres else func.length(cast(value, LargeBinary))

    size = sum(
        (utf8_bytes(c) for c in (ArticleVersion.title, ArticleVersion.lead, ArticleVersion.text)),
        start=literal(0),
    )
    disk = (
        "SELECT pg_total_relation_size('article_versions')" if postgres
        else "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'article_versions'"
        " OR name LIKE 'ix_article_versions%'"
    )  # fmt: skip
    with engine.connect() as conn:
        count, total = conn.execute(select(func.count(), func.coalesce(func.sum(size), 0))).one()
        last = conn.execute(select(size).order_by(ArticleVersion.id.desc()).limit(1)).scalar()
        on_disk = conn.execute(text(disk)).scalar_one()
    return int(count), int(total), int(on_disk), int(last or 0)


def measure(url: str, updates: int, workdir: Path) -> dict[str, int]:
    engine = make_engine(url)
    migrate(engine)
    try:
        with MockNetwork(6, seed=1, workdir=workdir) as net:
            for fetch_number in range(3):  # unchanged: the second and third cost nothing
                write_batch(engine, [ticker_item(net, FIRST_FETCH + fetch_number * UPDATE_EVERY)])
            unchanged = history_bytes(engine)[0]
            for update in range(1, updates + 1):
                net.update_article(TICKER_ID)
                fetched_at = FIRST_FETCH + (update + 2) * UPDATE_EVERY
                write_batch(engine, [ticker_item(net, fetched_at)])
        versions, payload, on_disk, last = history_bytes(engine)
    finally:
        engine.dispose()
    return {"unchanged": unchanged, "versions": versions, "payload": payload,
            "on_disk": on_disk, "last": last}  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--updates", type=int, default=50, help="ticker updates (default 50)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--pg-server", default=DEFAULT_PG_SERVER, help="PostgreSQL server URL")
    args = parser.parse_args(argv)
    args.databases = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    unknown = [kind for kind in args.databases if kind not in KINDS]
    if unknown or args.updates < 1:
        parser.error(f"unknown database {unknown[0]!r}" if unknown else "--updates must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"ticker {TICKER_ID}: {args.updates} updates, one every {UPDATE_EVERY} "
          f"({PER_DAY} a day); the unchanged page stored 3 times first")  # fmt: skip
    print("| database | versions (unchanged / after updates) | history bytes per update | "
          "per day of updates | on disk per update | per day | newest version |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind in args.databases:
        with (
            tempfile.TemporaryDirectory(prefix="ticker-history-") as tmp,
            fresh_database(kind, Path(tmp), args.pg_server) as url,
        ):
            got = measure(url, args.updates, Path(tmp) / "mocknet")
        per_update = got["payload"] / args.updates
        disk_per_update = got["on_disk"] / args.updates
        print(f"| {kind} | {got['unchanged']} / {got['versions']} | {per_update:,.0f} B | "
              f"{per_update * PER_DAY / 1e6:,.2f} MB | {disk_per_update:,.0f} B | "
              f"{disk_per_update * PER_DAY / 1e6:,.2f} MB | {got['last']:,} B |")  # fmt: skip
        if got["unchanged"] != 0 or got["versions"] != args.updates:
            print(f"{kind}: expected 0 versions unchanged and {args.updates} after the updates",
                  file=sys.stderr)  # fmt: skip
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
