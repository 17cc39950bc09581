"""Reading WARC: which files ``-a warc=`` means, the response records in them (cut ones
marked), which records are articles, the redirects that led to them, and checkpoints."""

from __future__ import annotations

import gzip
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newscrawl.archive.checkpoint import Checkpoints, InFlight, Position
from newscrawl.archive.reader import (
    ArchivedResponse,
    ArchivePathError,
    expand_paths,
    read_responses,
)
from newscrawl.archive.records import Exchange, exchange_records
from newscrawl.archive.select import Redirects, skip_reason
from newscrawl.network import Network

FETCHED = datetime(2024, 4, 26, 18, 44, 1, 500000, tzinfo=UTC)
ARTICLE = "https://www.fr.de/politik/wahl-ergebnis-zr-93036630.html"
OLD_SLUG = "https://www.fr.de/politik/alter-titel-93036630.html"
PAGE = b"<html><head><title>Wahl</title></head><body><p>Text</p></body></html>"
HTML = ("Content-Type", "text/html; charset=utf-8")


def pair(url: str, status: int = 200, body: bytes = PAGE, *headers: tuple[str, str]) -> bytes:
    return exchange_records(Exchange(url, status, body, FETCHED, response_headers=[HTML, *headers]))


def write(path: Path, *pairs: bytes, plain: bool = False) -> Path:
    data = b"".join(pairs)
    path.write_bytes(gzip.decompress(data) if plain else data)
    return path


# --- -a warc= paths ---------------------------------------------------------------------


def test_files_folders_and_globs_each_file_once_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    one = write(tmp_path / "one.warc.gz", pair(ARTICLE))
    two = write(tmp_path / "b" / "two.warc", pair(ARTICLE), plain=True)
    three = write(tmp_path / "b" / "deep" / "three.warc.gz", pair(ARTICLE))
    (tmp_path / "b" / "notes.txt").write_text("x")
    (tmp_path / "b" / "killed.warc.gz.open").write_bytes(b"")
    spec = f"{tmp_path}/b,{one},{tmp_path}/*.warc.gz,{two}"
    assert expand_paths(spec) == [three, two, one]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "-a warc= names no file: give PATH[,PATH...]"),
        ("{tmp}/missing.warc.gz", "-a warc={tmp}/missing.warc.gz: no such file or folder"),
        ("{tmp}/*.warc", "-a warc={tmp}/*.warc: the pattern matches no .warc or .warc.gz file"),
        ("{tmp}", "-a warc={tmp}: the folder holds no .warc or .warc.gz file"),
    ],
)
def test_paths_that_name_no_archive_are_one_line_errors(
    tmp_path: Path, spec: str, message: str
) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ArchivePathError) as error:
        expand_paths(spec.format(tmp=tmp_path))
    assert str(error.value) == message.format(tmp=tmp_path)


# --- records ------------------------------------------------------------------------------


@pytest.mark.parametrize("plain", [False, True], ids=["warc.gz", "warc"])
def test_response_records_with_decoded_bodies_and_fetch_times(tmp_path: Path, plain: bool) -> None:
    encoded = gzip.compress(PAGE, mtime=0)
    path = write(
        tmp_path / ("a.warc" if plain else "a.warc.gz"),
        pair(OLD_SLUG, 301, b"", ("Location", ARTICLE)),
        pair(ARTICLE, 200, encoded, ("Content-Encoding", "gzip")),
        pair("https://www.fr.de/", 404, b"gone"),
        plain=plain,
    )
    records = list(read_responses(path))
    assert [(r.url, r.status, r.body, r.date, r.truncated) for r in records] == [
        (OLD_SLUG, 301, b"", FETCHED, False),
        (ARTICLE, 200, PAGE, FETCHED, False),
        ("https://www.fr.de/", 404, b"gone", FETCHED, False),
    ]
    assert (b"Location", ARTICLE.encode()) in records[0].headers
    # a record's offset is where a resumed run starts reading
    assert [r.url for r in read_responses(path, records[1].offset)] == [
        ARTICLE, "https://www.fr.de/",
    ]  # fmt: skip


def test_a_record_the_archive_cut_is_marked(tmp_path: Path) -> None:
    whole = exchange_records(Exchange(ARTICLE, 200, PAGE, FETCHED, [HTML]))
    cut = exchange_records(Exchange(OLD_SLUG, 200, PAGE[:20], FETCHED, [HTML]))
    cut = gzip.compress(gzip.decompress(cut).replace(
        b"WARC-Type: response\r\n", b"WARC-Type: response\r\nWARC-Truncated: length\r\n", 1
    ))  # fmt: skip
    path = write(tmp_path / "cc.warc.gz", whole, cut)
    assert [(r.url, r.truncated) for r in read_responses(path)] == [
        (ARTICLE, False), (OLD_SLUG, True),
    ]  # fmt: skip


@pytest.mark.parametrize("plain", [False, True], ids=["warc.gz", "warc"])
def test_a_record_cut_by_the_end_of_the_file_is_marked(tmp_path: Path, plain: bool) -> None:
    body = random.Random(1).randbytes(4000)  # does not compress: cuts land where meant
    whole = write(tmp_path / "whole", pair(ARTICLE), pair(ARTICLE, 200, body), plain=plain)
    data = whole.read_bytes()
    last = list(read_responses(whole))[-1].offset
    cut = tmp_path / ("cut.warc" if plain else "cut.warc.gz")
    for keep in (100, 520, 2000):  # in the WARC headers, the HTTP headers, the body
        cut.write_bytes(data[: last + keep])
        found = [(r.url, r.truncated, r.offset) for r in read_responses(cut)]
        assert found[0] == (ARTICLE, False, 0), keep
        assert found[1][1:] == (True, last), keep
        assert len(found) == 2, keep
    # a cut request record after the last response: the response stands, the cut is reported
    cut.write_bytes(data[: len(data) - 10])
    found = [(r.url, r.truncated) for r in read_responses(cut)]
    assert found == [(ARTICLE, False), (ARTICLE, False), ("", True)]
    assert [r.truncated for r in read_responses(whole)] == [False, False]


# --- which records are articles -------------------------------------------------------------


def response(url: str, status: int = 200, **fields: object) -> ArchivedResponse:
    values: dict[str, object] = {
        "url": url, "status": status, "headers": [], "body": PAGE, "date": FETCHED, "offset": 0,
    }  # fmt: skip
    values.update(fields)
    return ArchivedResponse(**values)  # type: ignore[arg-type]


NETWORK = Network.load()
ALL = frozenset(NETWORK.domains)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("record", "selected", "window", "reason"),
    [
        (response(ARTICLE), ALL, (None, None), None),
        (response(ARTICLE + "?utm_source=x"), ALL, (None, None), None),
        (response("https://www.bild.de/politik/wahl-93036630.html"), ALL, (None, None),
         "other_host"),
        (response("https://www.bild.de/", 404), ALL, (None, None), "other_host"),
        (response(ARTICLE), frozenset({"merkur.de"}), (None, None), "not_selected"),
        (response("https://www.fr.de/politik/"), ALL, (None, None), "not_article"),
        (response(ARTICLE, 301), ALL, (None, None), "status"),
        (response(ARTICLE, 404), ALL, (None, None), "status"),
        (response(ARTICLE, 304), ALL, (None, None), "status"),
        (response(ARTICLE), ALL, (FETCHED + DAY, None), "out_of_window"),
        (response(ARTICLE), ALL, (None, FETCHED - DAY), "out_of_window"),
        (response(ARTICLE), ALL, (FETCHED - DAY, FETCHED + DAY), None),
        (response(ARTICLE, truncated=True), ALL, (None, None), "truncated"),
        (response("", 0, truncated=True), ALL, (None, None), "truncated"),
        (response(ARTICLE, headers=[(b"Content-Type", b"image/jpeg")]), ALL, (None, None),
         "not_html"),
        (response(ARTICLE, headers=[(b"content-type", b"application/pdf; x=1")]), ALL,
         (None, None), "not_html"),
        (response(ARTICLE, headers=[(b"Content-Type", b"Text/HTML; charset=latin-1")]), ALL,
         (None, None), None),
        (response(ARTICLE, headers=[(b"Content-Type", b"application/xhtml+xml")]), ALL,
         (None, None), None),
    ],
)  # fmt: skip
def test_skip_reasons(
    record: ArchivedResponse,
    selected: frozenset[str],
    window: tuple[datetime | None, datetime | None],
    reason: str | None,
) -> None:
    assert skip_reason(record, NETWORK, selected, *window) == reason


def test_redirects_give_the_old_urls_of_a_page_first_one_first() -> None:
    redirects = Redirects(NETWORK)
    older = "https://www.fr.de/politik/ganz-alt-93036630.html"
    redirects.note(
        response(older, 301, headers=[(b"Location", b"/politik/alter-titel-93036630.html")])
    )
    redirects.note(response(OLD_SLUG, 301, headers=[(b"location", ARTICLE.encode() + b"?utm=1")]))
    redirects.note(
        response("https://www.fr.de/x-93000001.html", 404, headers=[(b"Location", b"/")])
    )
    assert redirects.chain(ARTICLE) == [older, OLD_SLUG]
    assert redirects.chain("https://www.fr.de/") == []


def test_redirects_remembered_are_bounded() -> None:
    redirects = Redirects(NETWORK, remembered=2)
    for n in range(3):
        target = f"https://www.fr.de/a-9300000{n}.html"
        redirects.note(response(f"https://www.fr.de/old-9300000{n}.html", 301,
                                headers=[(b"Location", target.encode())]))  # fmt: skip
    assert [bool(redirects.chain(f"https://www.fr.de/a-9300000{n}.html")) for n in range(3)] == [
        False, True, True,
    ]  # fmt: skip


# --- checkpoints -----------------------------------------------------------------------------


def test_resume_at_the_first_record_not_finished(tmp_path: Path) -> None:
    a, b = tmp_path / "a.warc.gz", tmp_path / "b.warc.gz"
    flight = InFlight()
    assert flight.position(a) is None
    flight.skipped(a, 0)
    assert flight.position(a) == Position(0, after=True)
    flight.sent(1, a, 100)
    flight.sent(2, a, 200)
    flight.skipped(a, 300)
    assert len(flight) == 2
    assert flight.position(a) == Position(100)
    assert flight.finished(1) and not flight.finished(1) and not flight.finished(99)
    assert flight.position(a) == Position(200)
    flight.file_read(a)
    assert flight.position(a) == Position(200)  # read, not finished
    flight.finished(2)
    assert flight.position(a) == Position(300, after=True, done=True)
    flight.sent(3, b, 0)
    assert flight.positions() == {a: Position(300, after=True, done=True), b: Position(0)}
    checkpoints = Checkpoints(tmp_path / "job")
    assert checkpoints.load() == {}
    checkpoints.save(flight.positions())
    assert checkpoints.load() == flight.positions()
    assert [p.name for p in (tmp_path / "job").iterdir()] == ["warc-checkpoint.json"]
