"""Writing WARC: records readable by warcio and fastwarc, rotation, sealing a killed file,
and the downloader middleware that keeps the bytes as received."""

from __future__ import annotations

import gzip
import io
import zlib
from datetime import UTC, datetime
from pathlib import Path

import fastwarc.warc as fastwarc
import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from newscrawl.archive.files import OPEN_SUFFIX, RotatingWarcFiles, complete_length, seal
from newscrawl.archive.middleware import WarcWriterMiddleware
from newscrawl.archive.records import (
    Exchange,
    archived_headers,
    exchange_records,
    warc_file_name,
    warcinfo_record,
)
from newscrawl.spiders.ippen import ARTICLE

FETCHED = datetime(2024, 4, 26, 18, 44, 1, 123456, tzinfo=UTC)
URL = "https://www.fr.de/politik/wahl-ergebnis-zr-93036630.html?x=1"
PAGE = "<html><head><title>Wahl</title></head><body><p>Größer</p></body></html>".encode()


def exchange(body: bytes = PAGE, **fields: object) -> Exchange:
    values: dict[str, object] = {
        "url": URL, "status": 200, "body": body, "fetched_at": FETCHED,
        "response_headers": [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"abc"')],
        "request_headers": [("User-Agent", "newscrawl/0.1"), ("Accept-Encoding", "gzip")],
        "ip_address": "127.0.0.2",
    }  # fmt: skip
    values.update(fields)
    return Exchange(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("started", "serial", "name"),
    [
        (datetime(2024, 4, 26, 18, 44, 1, tzinfo=UTC), 0, "newscrawl-20240426184401-00000.warc.gz"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), 12, "newscrawl-20240102030405-00012.warc.gz"),
    ],
)
def test_file_names_sort_by_start_and_serial(started: datetime, serial: int, name: str) -> None:
    assert warc_file_name(started, serial) == name


def test_chunked_framing_is_renamed_since_the_body_is_dechunked() -> None:
    headers = [("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip"), ("ETag", "1")]
    assert archived_headers(headers) == [
        ("X-Crawler-Transfer-Encoding", "chunked"),
        ("Content-Encoding", "gzip"),
        ("ETag", "1"),
    ]


def test_records_read_back_identically_with_warcio() -> None:
    data = exchange_records(exchange())
    kinds, bodies = {}, {}
    for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
        kinds[record.rec_type] = record
        bodies[record.rec_type] = record.content_stream().read()  # before the iterator moves on
    assert sorted(kinds) == ["request", "response"]
    response, request = kinds["response"], kinds["request"]
    assert response.rec_headers.get_header("WARC-Target-URI") == URL
    assert response.rec_headers.get_header("WARC-Date") == "2024-04-26T18:44:01.123456Z"
    assert response.rec_headers.get_header("WARC-IP-Address") == "127.0.0.2"
    assert response.http_headers.statusline == "200 OK"
    assert response.http_headers.get_header("ETag") == '"abc"'
    assert bodies == {"response": PAGE, "request": b""}
    assert request.rec_headers.get_header("WARC-Concurrent-To") == response.rec_headers.get_header(
        "WARC-Record-ID"
    )
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.statusline == "/politik/wahl-ergebnis-zr-93036630.html?x=1 HTTP/1.1"
    assert request.http_headers.get_header("Host") == "www.fr.de"
    assert request.http_headers.get_header("User-Agent") == "newscrawl/0.1"


def test_records_read_back_identically_with_fastwarc_digests_verified() -> None:
    data = exchange_records(exchange())
    records = [
        (r.record_type, r.record_date, r.headers.get("WARC-Target-URI"), r.reader.read())
        for r in fastwarc.ArchiveIterator(io.BytesIO(data), verify_digests=True)
    ]
    assert records == [
        (fastwarc.WarcRecordType.response, FETCHED, URL, PAGE),
        (fastwarc.WarcRecordType.request, FETCHED, URL, b""),
    ]


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    data = exchange_records(exchange())
    path = tmp_path / "one.warc.gz"
    path.write_bytes(data)
    assert complete_length(path) == len(data)
    first = _first_member_length(data)
    assert 0 < first < len(data)
    assert gzip.decompress(data[:first]).count(b"WARC/1.1\r\n") == 1
    assert gzip.decompress(data[first:]).count(b"WARC/1.1\r\n") == 1


def test_compressed_body_is_kept_as_received_and_both_readers_decode_it() -> None:
    raw = gzip.compress(PAGE, mtime=0)
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")]
    data = exchange_records(exchange(raw, response_headers=headers))
    raws = [r.raw_stream.read() for r in ArchiveIterator(io.BytesIO(data))]
    assert raws == [raw, b""]  # the response's payload as received, then the request's
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type == "response":
            assert record.http_headers.get_header("Content-Encoding") == "gzip"
            assert record.content_stream().read() == PAGE
    fast = next(iter(fastwarc.ArchiveIterator(io.BytesIO(data), auto_decode="all")))
    assert fast.reader.read() == PAGE


def test_rotation_starts_a_new_file_before_one_would_pass_max_bytes(tmp_path: Path) -> None:
    record = exchange_records(exchange())
    info = warcinfo_record(warc_file_name(FETCHED, 0), FETCHED)
    # two pairs a file; warcinfo records differ by a few compressed bytes (ids, dates)
    max_bytes = len(info) + 2 * len(record) + 50
    files = RotatingWarcFiles(tmp_path, max_bytes=max_bytes, started=FETCHED)
    for _ in range(5):
        files.write(record)
    names = [f"newscrawl-20240426184401-0000{n}.warc.gz" for n in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [*names[:2], names[2] + OPEN_SUFFIX]
    files.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == names
    counts = []
    for path in sorted(tmp_path.iterdir()):
        assert path.stat().st_size <= max_bytes
        with path.open("rb") as stream:
            types = [r.rec_type for r in ArchiveIterator(stream, check_digests=True)]
        assert types[0] == "warcinfo"
        counts.append(types.count("response"))
    assert counts == [2, 2, 1]


def test_seal_cuts_a_killed_files_last_record_and_renames_it(tmp_path: Path) -> None:
    record = exchange_records(exchange())
    files = RotatingWarcFiles(tmp_path, max_bytes=10**9, started=FETCHED)
    files.write(record)
    files.write(record)
    files.write(record[:200])  # what a kill in mid-write leaves: a cut response record
    (left,) = tmp_path.iterdir()
    assert left.name.endswith(".warc.gz" + OPEN_SUFFIX)
    complete = left.stat().st_size - 200
    later = RotatingWarcFiles(tmp_path, max_bytes=10**9, started=FETCHED)
    (sealed,) = later.seal_leftovers()
    assert sealed == left.with_name(left.name.removesuffix(OPEN_SUFFIX))
    assert sealed.stat().st_size == complete
    with sealed.open("rb") as stream:
        types = [r.rec_type for r in ArchiveIterator(stream, check_digests=True)]
    assert types == ["warcinfo", "response", "request", "response", "request"]


def test_seal_keeps_a_whole_file_whole(tmp_path: Path) -> None:
    path = tmp_path / ("x.warc.gz" + OPEN_SUFFIX)
    path.write_bytes(exchange_records(exchange()))
    size = path.stat().st_size
    assert seal(path).stat().st_size == size


def _middleware(tmp_path: Path) -> tuple[WarcWriterMiddleware, MemoryStatsCollector]:
    crawler = get_crawler(settings_dict={"NEWSCRAWL_WARC_DIR": str(tmp_path)})
    middleware = WarcWriterMiddleware.from_crawler(crawler)
    middleware.spider_opened()
    return middleware, crawler.stats  # type: ignore[return-value]


def test_middleware_is_off_without_a_folder() -> None:
    with pytest.raises(NotConfigured):
        WarcWriterMiddleware.from_crawler(get_crawler(settings_dict={"NEWSCRAWL_WARC_DIR": ""}))


def test_middleware_writes_article_responses_only_with_the_bytes_received(tmp_path: Path) -> None:
    middleware, stats = _middleware(tmp_path)
    raw = gzip.compress(PAGE, mtime=0)
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
    article = Request(URL, meta={ARTICLE: True}, headers={"User-Agent": "newscrawl/0.1"})
    response = HtmlResponse(URL, body=raw, headers=headers, request=article, protocol="HTTP/1.1")
    assert middleware.process_response(article, response) is response
    sitemap = Request("https://www.fr.de/news.xml")
    middleware.process_response(sitemap, HtmlResponse(sitemap.url, body=b"<x/>", request=sitemap))
    middleware.spider_closed()
    (path,) = tmp_path.iterdir()
    assert path.name.endswith(".warc.gz")
    with path.open("rb") as stream:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.raw_stream.read())
            for r in ArchiveIterator(stream, check_digests=True)
        ]
    assert [(kind, url) for kind, url, _ in records] == [
        ("warcinfo", None), ("response", URL), ("request", URL),
    ]  # fmt: skip
    assert records[1][2] == raw
    assert stats.get_value("newscrawl/warc/records") == 1
    assert stats.get_value("newscrawl/warc/files") == 1
    data = path.read_bytes()  # the bytes counted: all but the warcinfo record
    assert stats.get_value("newscrawl/warc/bytes") == len(data) - _first_member_length(data)


def _first_member_length(data: bytes) -> int:
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    inflater.decompress(data)
    assert inflater.eof
    return len(data) - len(inflater.unused_data)


def test_middleware_counts_and_logs_a_write_failure_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    crawler = get_crawler(settings_dict={"NEWSCRAWL_WARC_DIR": str(blocker / "warc")})
    middleware = WarcWriterMiddleware.from_crawler(crawler)
    article = Request(URL, meta={ARTICLE: True})
    for _ in range(3):
        middleware.process_response(article, HtmlResponse(URL, body=PAGE, request=article))
    middleware.spider_closed()
    assert crawler.stats.get_value("newscrawl/warc/failed") == 3
    assert crawler.stats.get_value("newscrawl/warc/records") is None
    (error,) = [r.message for r in caplog.records if r.levelname == "ERROR"]
    assert error.startswith(
        f"Cannot write WARC records to {blocker / 'warc'}: [Errno 20] Not a directory: "
    )
