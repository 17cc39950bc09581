"""Re-extract stored stories from their archived pages, without fetching anything.

``reextract(database_url, warc_paths, site=None, since=None)`` (the CLI:
``python -m newscrawl.store reextract``) runs the current extractor over the WARC
response records of stored stories and writes what changed over the rows in place
(``newscrawl/store/reextract.py``: extracted columns only, no ``article_versions``).

Which record, when an archive holds several fetches of a story: the latest one fetched
at or before the row's ``fetched_at`` (the first fetch of the stored content). That is
the fetch that produced the row: an import stores ``WARC-Date`` as ``fetched_at``, and a
live crawl writes its record a moment before the spider stamps the item; an earlier
fetch is an older version, a later one a re-fetch the store found unchanged or a newer
edit. Only when the archive holds no fetch that early is the earliest later one taken.
Not the record whose ``content_hash`` matches the row's: that hash is of the *old*
extractor's output, so exactly the pages a better extractor reads differently would
find no match.

Two passes over the files, so memory holds positions, not pages: the first notes, per
story, the position of the chosen record (the choice needs every record's date); the
second reads those records and extracts them on all cores with the live crawl's own
worker function (``extract_in_worker``) in its forkserver pool (``processes.py``: the
workers die with this process). Rows are written ``BATCH`` at a time.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from scrapy.http import TextResponse

from newscrawl.archive.reader import (
    ArchivedResponse,
    ArchivePathError,
    expand_paths,
    read_responses,
)
from newscrawl.archive.select import skip_reason
from newscrawl.network import DEFAULT_SITES_PATH, Network
from newscrawl.pipelines.extract import extract_in_worker, network_links
from newscrawl.processes import forkserver_context
from newscrawl.spiders.archive import archived_response
from newscrawl.store import make_engine, migrate
from newscrawl.store.reextract import Changes, Target, apply, targets
from newscrawl.store.validate import ItemError, prepare

BATCH = 200
"""Pages extracted and rows written per round: the pool busy, memory bounded."""


class Position(NamedTuple):
    date: datetime
    path: Path
    offset: int


@dataclass
class ReextractReport:
    """What a re-extraction did: ``stories`` selected, ``examined`` (re-extracted from an
    archived page), ``changed`` rows, per field how many rows changed, ``without_page``
    (no usable record of theirs in the archive) and ``failed`` (the extractor refused the
    page now; the row is left as it was) by reason."""

    stories: int = 0
    examined: int = 0
    changed: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    without_page: int = 0
    failed: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        per_field = ", ".join(f"{name} {count}" for name, count in sorted(self.fields.items()))
        failed = ", ".join(f"{reason} {n}" for reason, n in sorted(self.failed.items()))
        return [
            f"re-extracted {self.examined} of {self.stories} stories "
            f"({self.without_page} without an archived page"
            f"{f', failed: {failed}' if failed else ''})",
            f"rows changed: {self.changed}" + (f" ({per_field})" if per_field else ""),
        ]


def preference(date: datetime, fetched_at: datetime) -> tuple[int, float]:
    """Sort key of a record for a row fetched at ``fetched_at``: the least is chosen
    (the latest record at or before it, else the earliest after it)."""
    if date <= fetched_at:
        return (0, -date.timestamp())
    return (1, date.timestamp())


def reextract(
    database_url: str | None, warc_paths: str | Sequence[str], site: str | None = None,
    since: datetime | None = None, sites_path: str | Path | None = None,
    workers: int | None = None,
) -> ReextractReport:  # fmt: skip
    """Re-extract the stored stories (``site``, fetched ``since``) that ``warc_paths``
    (``PATH[,PATH...]`` or a list: files, folders, globs) hold pages of.

    ``sites_path``: the registry (default ``NEWSCRAWL_SITES``, else the shipped one);
    ``workers``: extraction processes (default one per core). ValueError: a bad path or
    site, as a one-line message; database errors propagate."""
    spec = warc_paths if isinstance(warc_paths, str) else ",".join(warc_paths)
    try:
        files = expand_paths(spec)
    except ArchivePathError as exc:  # its message names the spider's argument
        raise ValueError(str(exc).replace("-a warc=", "--warc ")) from None
    network = Network.load(sites_path or os.environ.get("NEWSCRAWL_SITES") or DEFAULT_SITES_PATH)
    if site is not None and site not in network.domains:
        raise ValueError(f"--site {site}: not a portal of the registry")
    engine = make_engine(database_url)
    try:
        migrate(engine)
        wanted = targets(engine, site, since)
        report = ReextractReport(stories=len({t.story for t in wanted.values()}))
        chosen = _choose(files, network, wanted)
        report.without_page = report.stories - len(chosen)
        pool = ProcessPoolExecutor(workers or os.cpu_count() or 1, mp_context=forkserver_context())
        try:
            changes = Changes()
            for batch in _batches(_pages(files, network, chosen, report), BATCH):
                rows = _extract(pool, network, batch, report)
                changes.add(apply(engine, rows))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    finally:
        engine.dispose()
    report.examined, report.changed, report.fields = (
        changes.examined, changes.changed, changes.fields,
    )  # fmt: skip
    return report


def _choose(
    files: list[Path], network: Network, wanted: dict[str, Target]
) -> dict[Position, Target]:
    """Pass one: each selected story's chosen record (see the module docstring)."""
    best: dict[int, tuple[Position, Target]] = {}
    selected = frozenset(network.domains)
    for path in files:
        for record in read_responses(path):
            target = _target_of(record, network, selected, wanted)
            if target is None:
                continue
            here = Position(record.date, path, record.offset)
            held = best.get(target.story)
            if held is None or preference(here.date, target.fetched_at) < preference(
                held[0].date, target.fetched_at
            ):
                best[target.story] = (here, target)
    return dict(best.values())


def _target_of(
    record: ArchivedResponse, network: Network, selected: frozenset[str],
    wanted: dict[str, Target],
) -> Target | None:  # fmt: skip
    """The story whose page ``record`` is: an article page an import would take, under
    one of the story's publication URLs."""
    if skip_reason(record, network, selected) is not None:
        return None
    found = network.canonical(record.url)
    return wanted.get(found[0]) if found else None


def _pages(
    files: list[Path], network: Network, chosen: dict[Position, Target], report: ReextractReport
) -> Iterator[tuple[Target, str, bytes, str]]:
    """Pass two: (story, fetched URL, body, encoding) of each chosen record, as a live
    crawl's spider would hand them to extraction (Scrapy's response decides the encoding;
    a page it finds not to be text is counted as failed ``not_text``, as the spider does)."""
    at = {(position.path, position.offset): target for position, target in chosen.items()}
    for path in files:
        if not any(key[0] == path for key in at):
            continue
        for record in read_responses(path):
            target = at.get((path, record.offset))
            if target is None:
                continue
            response = archived_response(record, [])
            found = network.canonical(record.url)
            if isinstance(response, TextResponse) and found is not None:
                yield target, found[0], response.body, response.encoding
            else:
                report.failed["not_text"] += 1


def _batches(pages: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for page in pages:
        batch.append(page)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _extract(
    pool: ProcessPoolExecutor, network: Network, batch: list[tuple[Target, str, bytes, str]],
    report: ReextractReport,
) -> dict[int, dict[str, Any]]:  # fmt: skip
    """Extract a batch on the pool; story id → the row the store would build for it."""
    futures: list[tuple[Target, Future[tuple[bool, Any]]]] = [
        (target, pool.submit(extract_in_worker, body, url, encoding))
        for target, url, body, encoding in batch
    ]
    rows: dict[int, dict[str, Any]] = {}
    for target, future in futures:
        ok, result = future.result()
        if not ok:
            report.failed[result] += 1
            continue
        item = {name: result.get(name) for name in result if name != "body_links"}
        item.update(
            url=target.url,
            site=target.site,
            fetched_at=target.fetched_at,
            links=network_links(network, result.get("body_links") or [], target.url),
        )
        try:
            rows[target.story] = prepare(item).hashed_row()
        except ItemError as exc:
            report.failed[exc.reason] += 1
    return rows


def run(database_url: str | None, warc_paths: str, site: str | None, since: str | None) -> int:
    """The command lines' ``reextract`` (``newscrawl db reextract``, ``python -m
    newscrawl.store reextract``): the report on stdout, exit 0."""
    from newscrawl.dates import parse_since

    report = reextract(
        database_url, warc_paths, site=site, since=parse_since(since) if since else None
    )
    print("\n".join(report.lines()))
    return 0
