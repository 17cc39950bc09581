"""Rows → text: a terminal table, JSON lines (for jq) or CSV (for spreadsheets).

Pure functions writing to a text stream. Datetimes are UTC: ISO 8601 in JSON and CSV,
``YYYY-MM-DD HH:MM`` in tables; JSON lists stay lists in JSON lines and become JSON
text in CSV cells.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from itertools import islice
from typing import IO, TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from newscrawl.store.stats import StatTable

FORMATS = ("table", "jsonl", "csv")
TITLE_WIDTH = 60
"""Titles are cut to this in tables; URLs never are (people copy them)."""


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: json_value(item) for key, item in value.items()}
    return value


def write_jsonl(rows: Iterable[Mapping[str, Any]], out: TextIO) -> None:
    for row in rows:
        record = {key: json_value(value) for key, value in row.items()}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in JSON, not Python's True/False
    if isinstance(value, list | dict):
        return json.dumps(json_value(value), ensure_ascii=False)
    return json_value(value)


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: TextIO) -> None:
    """A header and one line per row, as they come; missing ``columns`` are empty cells."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_value(row.get(column)) for column in columns])


def cell(value: Any, width: int | None = None) -> str:
    if value is None:
        text = ""
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list):
        text = ", ".join(str(item) for item in value)
    else:
        text = str(value)
    text = " ".join(text.split())  # a table row is one line
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def write_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    out: TextIO,
    widths: Mapping[str, int] | None = None,
) -> None:
    """Columns padded to their widest cell, a header and a dashed rule, like sqlite-utils.

    ``widths`` caps the named columns (an ellipsis marks the cut).
    """
    widths = widths or {}
    cells = [[cell(row.get(column), widths.get(column)) for column in columns]
             for row in rows]  # fmt: skip
    sizes = [
        max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)
    ]
    for line in [list(columns), ["-" * size for size in sizes], *cells]:
        out.write(
            "  ".join(text.ljust(size) for text, size in zip(line, sizes, strict=True)).rstrip()
        )
        out.write("\n")


def write_rows(
    rows: Sequence[Mapping[str, Any]],
    fmt: str,
    out: TextIO,
    *,
    columns: Sequence[str],
    table_columns: Sequence[str] | None = None,
    widths: Mapping[str, int] | None = None,
) -> None:
    """``rows`` in ``fmt``; a table shows only ``table_columns`` (all in JSON and CSV)."""
    if fmt == "jsonl":
        write_jsonl(({column: row.get(column) for column in columns} for row in rows), out)
    elif fmt == "csv":
        write_csv(rows, columns, out)
    else:
        write_table(rows, table_columns or columns, out, widths)


# --- one story ------------------------------------------------------------------------------

STORY_HIDDEN = ("text",)
"""Left out of the metadata block: the text gets its own block."""


def write_story(
    article: Mapping[str, Any],
    urls: Sequence[Mapping[str, Any]],
    versions: Sequence[Mapping[str, Any]],
    fmt: str,
    out: TextIO,
    *,
    url_columns: Sequence[str],
    version_columns: Sequence[str],
) -> None:
    """A story as one JSON object (``urls`` and ``versions`` nested), or as text blocks."""
    if fmt == "jsonl":
        write_jsonl([{**article, "urls": list(urls), "versions": list(versions)}], out)
        return
    names = [name for name in article if name not in STORY_HIDDEN]
    size = max(len(name) for name in names)
    for name in names:
        value = article[name]
        text = value.isoformat() if isinstance(value, datetime) else cell(value)
        out.write(f"{name.ljust(size)}  {text}".rstrip() + "\n")
    out.write("\ntext:\n")
    out.write((article.get("text") or "").rstrip() + "\n")
    out.write(f"\npublications ({len(urls)}):\n")
    write_table(urls, url_columns, out)
    out.write(f"\nversions ({len(versions)}):\n")
    if versions:
        write_table(versions, version_columns, out, {"title": TITLE_WIDTH})


# --- statistics -----------------------------------------------------------------------------

STAT_TITLES = {
    "days": "Articles per day and site (UTC)",
    "sections": "Articles per section",
    "authors": "Top authors",
    "syndicated": "Stories on more than one portal",
    "runs": "Last crawl runs",
}


def write_stats(tables: Mapping[str, StatTable], fmt: str, out: TextIO) -> None:
    """Tables with headings; in JSON lines and CSV one row per line, ``stat`` naming its table.

    CSV gets the union of the tables' columns so that one file holds them all; a single
    table (``scrapy articles stats days``) gets just its own.
    """
    rows = [{"stat": name, **row} for name, table in tables.items() for row in table.rows]
    if fmt == "jsonl":
        write_jsonl(rows, out)
    elif fmt == "csv":
        columns = ["stat"] + [c for table in tables.values() for c in table.columns]
        write_csv(rows, list(dict.fromkeys(columns)), out)
    else:
        for number, (name, table) in enumerate(tables.items()):
            out.write(("\n" if number else "") + STAT_TITLES[name] + "\n\n")
            write_table(table.rows, table.columns, out, {"title": TITLE_WIDTH})


# --- Parquet (the optional extra newscrawl[parquet]) -----------------------------------------

PARQUET_BATCH = 1000
"""Rows per Parquet row group written: the memory an export holds at once."""


class ParquetUnavailable(RuntimeError):
    """pyarrow is not installed: ``pip install 'newscrawl[parquet]'``."""


def write_parquet(
    rows: Iterable[Mapping[str, Any]], kinds: Mapping[str, str], out: IO[bytes]
) -> None:
    """``rows`` as Parquet, ``PARQUET_BATCH`` at a time; ``kinds`` (``column_kinds``) give
    the typed schema (times as UTC timestamps; JSON lists and objects as JSON text, as in
    CSV, since their elements have no one type)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ParquetUnavailable(
            "the parquet format needs pyarrow: pip install 'newscrawl[parquet]'"
        ) from None
    types = {
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "datetime": pa.timestamp("us", tz="UTC"),
        "json": pa.string(),
        "text": pa.string(),
    }
    schema = pa.schema([(name, types[kind]) for name, kind in kinds.items()])
    json_columns = [name for name, kind in kinds.items() if kind == "json"]
    rows = iter(rows)
    with pq.ParquetWriter(out, schema) as writer:
        while records := [dict(row) for row in islice(rows, PARQUET_BATCH)]:
            for record in records:
                for name in json_columns:
                    if record.get(name) is not None:
                        record[name] = json.dumps(json_value(record[name]), ensure_ascii=False)
            writer.write_batch(pa.RecordBatch.from_pylist(records, schema=schema))


def parts_blocks(article: Mapping[str, Any]) -> str:
    """The fact boxes, tables and ticker entries of a story as text blocks (none: "").

    As a table, ``show`` prints these after the story rather than as JSON in a cell.
    """
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
