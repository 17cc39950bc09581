"""The simplest WARC import, the one ``bench_archive.py`` compares ``ippen-archive`` with.

    python -m benchmarks._naive_archive REGISTRY DATABASE.db OUT.json WARC...

One process: warcio iterates the records; every 200 response of a registry host whose
URL ends in ``-<id>.html`` goes through ``trafilatura.extract`` (title, date, text as
JSON) and is inserted into SQLite, one INSERT and commit per article. No dedup, no
canonical URLs, no versions: it does less than newscrawl, never more.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura
from warcio.archiveiterator import ArchiveIterator

ARTICLE = re.compile(r"-\d{7,9}\.html$")


def registry_hosts(path: Path) -> set[str]:
    sites = tomllib.loads(path.read_text(encoding="utf-8"))["sites"]
    return {urlsplit(site["base_url"]).netloc for site in sites}


def main(registry: Path, database: Path, out: Path, warcs: list[Path]) -> None:
    hosts = registry_hosts(registry)
    db = sqlite3.connect(database)
    db.execute(
        "CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title TEXT, "
        "published TEXT, text TEXT, fetched_at TEXT)"
    )
    started = time.monotonic()
    records = stored = 0
    for path in warcs:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type != "response":
                    continue
                records += 1
                url = record.rec_headers.get_header("WARC-Target-URI")
                parts = urlsplit(url)
                if parts.netloc not in hosts or not ARTICLE.search(parts.path):
                    continue
                if record.http_headers.get_statuscode() != "200":
                    continue
                html = record.content_stream().read()
                result = trafilatura.extract(html, output_format="json", with_metadata=True)
                if not result:
                    continue
                fields = json.loads(result)
                db.execute(
                    "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?)",
                    (url, fields.get("title"), fields.get("date"), fields.get("text"),
                     record.rec_headers.get_header("WARC-Date")),
                )  # fmt: skip
                db.commit()
                stored += 1
    db.close()
    out.write_text(json.dumps(
        {"records": records, "stored": stored, "wall": time.monotonic() - started}
    ))  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), [Path(p) for p in sys.argv[4:]])
