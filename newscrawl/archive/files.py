"""Rotating WARC files that a killed crawl leaves holding only complete records.

How (the brief asked which and why): every record pair is built in memory as complete
gzip members and appended with one ``write()`` on an ``O_APPEND`` descriptor, to a file
named ``<name>.warc.gz.open`` that is renamed to ``<name>.warc.gz`` when it is full or
the crawl ends. So:

* a file without ``.open`` is finished: every record in it complete;
* a crawl killed with SIGKILL leaves one ``.open`` file whose records are complete but
  for at most the last: Linux may stop a ``write()`` to a regular file part-way when a
  fatal signal arrives (``generic_perform_write`` checks for one between pages), so a
  single write is the smallest window, not a guarantee. The next crawl with the same
  ``NEWSCRAWL_WARC_DIR`` seals such files first (``seal``): it cuts the file after its
  last complete gzip member and renames it. The reader also stops cleanly at a cut
  record, so an unsealed file can be imported as it is.

Writing to a ``.open`` name and renaming is what Heritrix and wget do; one gzip member
per record is what makes both the cut and random access (Common Crawl's offsets) work.
"""

from __future__ import annotations

import logging
import os
import zlib
from datetime import datetime
from pathlib import Path

from newscrawl.archive.records import warc_file_name, warcinfo_record

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".open"
_CHUNK = 1 << 20


def complete_length(path: Path, start: int = 0) -> int:
    """Offset in ``path`` where the complete gzip members from ``start`` end.

    zlib is given the file chunk by chunk; a member is complete when its stream ends
    (``eof``, which includes the CRC and length check); the rest is a cut member.
    """
    good = start
    with path.open("rb") as file:
        file.seek(start)
        position = start
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        while chunk := file.read(_CHUNK):
            data = chunk
            while data:
                begin = position
                try:
                    inflater.decompress(data, _CHUNK)
                    while inflater.unconsumed_tail:
                        inflater.decompress(inflater.unconsumed_tail, _CHUNK)
                except zlib.error:
                    return good
                if not inflater.eof:
                    position = begin + len(data)
                    break
                rest = inflater.unused_data
                position = begin + len(data) - len(rest)
                good = position
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                data = rest
    return good


def seal(path: Path) -> Path:
    """Finish a ``.open`` file a killed crawl left: drop a cut last record, rename it."""
    keep = complete_length(path)
    size = path.stat().st_size
    if keep < size:
        logger.warning("WARC file %s ended in a cut record (%d bytes): removed", path, size - keep)
        os.truncate(path, keep)
    final = path.with_name(path.name.removesuffix(OPEN_SUFFIX))
    path.rename(final)
    return final


class RotatingWarcFiles:
    """``newscrawl-<start time>-<serial>.warc.gz`` in ``directory``, a new one at ``max_bytes``.

    Not thread-safe: one writer thread calls ``write`` (see the middleware).
    """

    def __init__(self, directory: Path, max_bytes: int, started: datetime) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.started = started
        self.serial = 0
        self.finished: list[Path] = []
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0

    def seal_leftovers(self) -> list[Path]:
        """Seal the ``.open`` files of earlier crawls that were killed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return [seal(path) for path in sorted(self.directory.glob(f"*.warc.gz{OPEN_SUFFIX}"))]

    def write(self, records: bytes) -> None:
        """Append complete records with one ``write()``; rotate first when they would not fit."""
        if self._fd is not None and self._size + len(records) > self.max_bytes:
            self.close()
        if self._fd is None:
            self._open()
        assert self._fd is not None
        _write_all(self._fd, records)
        self._size += len(records)

    def close(self) -> None:
        if self._fd is None or self._path is None:
            return
        os.close(self._fd)
        final = self._path.with_name(self._path.name.removesuffix(OPEN_SUFFIX))
        self._path.rename(final)
        self.finished.append(final)
        self._fd, self._path, self._size = None, None, 0

    def _open(self) -> None:
        name = warc_file_name(self.started, self.serial)
        while (self.directory / name).exists():  # another crawl started in the same second
            self.serial += 1
            name = warc_file_name(self.started, self.serial)
        self.serial += 1
        self._path = self.directory / (name + OPEN_SUFFIX)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        self._fd = os.open(self._path, flags, 0o644)
        self._size = 0
        info = warcinfo_record(name, self.started)
        _write_all(self._fd, info)
        self._size = len(info)


def _write_all(fd: int, data: bytes) -> None:
    """One ``write()`` for the whole buffer (a regular file takes it whole unless the disk
    fills or a fatal signal arrives); the loop only covers a short write."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
