"""Near-duplicate detection: a 64-bit SimHash over word 3-shingles, looked up by bands.

Why shingles and not trafilatura's ``Simhash``: trafilatura hashes single words (a bag of
words), so two different stories on the same topic (same names, same places) land close
together; 3-word shingles keep word order, so only shared *passages* count. The hash is
computed here without numpy; the per-bit counting runs on big ints (C speed): ~0.34 ms
for a 4 KB article (0.14 tokenising, 0.20 hashing and counting). That is more than the
whole rest of storing a new article on SQLite, so the crawl computes it where CPU is
parallel: ``fingerprint`` is a pure function that the extraction workers call, putting
the result on the item as ``simhash``; ``write_batch`` computes it only for items that
come without one. (Faster pure-Python variants, e.g. three per-rotation caches, measured
no better; the hash itself is unchanged, so stored hashes stay comparable.)

Threshold, measured by ``tests/test_store_dedup.py`` on variants of the three fixture
texts (ambrosia 4.1 KB, nordkorea 7.3 KB, musk 1.8 KB), Hamming distance in bits:

===========================================  ========  =========  ====
variant                                      ambrosia  nordkorea  musk
===========================================  ========  =========  ====
same story: other dateline                   1         0          1
same story: author line appended             0         1          5
same story: agency tag appended              1         0          2
same story: dateline + author + agency       2         0          5
same story: two words changed                3         2          5
same story: last paragraph dropped           6         5          18
same story: typographic quotes/dashes        0         0          0
other story sharing 1 paragraph              20        27         27
other story sharing 2 paragraphs             17        24         30
other story sharing 2 paragraphs, up front   17        25         32
unrelated stories                            26-36
===========================================  ========  =========  ====

So ``MAX_DISTANCE = 7``: every edited copy of a long text is within 6, the closest
different story is 17 away, and two random hashes are within 7 bits with probability
~4e-11. (A copy that drops a quarter of a short text, musk at 18, is not recognised:
it is no longer a small edit.)

Lookup: the 64 bits are cut into ``BANDS`` = 4 bands of 16 bits, each an indexed column.
Two hashes within 7 bits have at least one band that differs in at most one bit (else
they would differ in 8), so probing each band's value and its 16 one-bit neighbours
(``probes``) is an indexed ``IN`` query that cannot miss a match; the exact distance is
then checked in Python.

Time: two stories are near-duplicates only if they were published within
``NEAR_DUPLICATE_WINDOW`` of each other, or one of them has no date (``near_in_time``).
Syndicated copies run within days of each other, and the rule is part of the relation,
not only of the lookup's window: were it only the window's, a copy published eight days
after its original would be one story with it in one batch and two in two batches.
"""

from __future__ import annotations

import hashlib
import re
import struct
from datetime import datetime, timedelta

SHINGLE_WORDS = 3
BITS = 64
BANDS = 4
BAND_BITS = BITS // BANDS
MAX_DISTANCE = 7
"""Largest Hamming distance that still counts as the same story (see module docstring)."""
NEAR_DUPLICATE_WINDOW = timedelta(days=7)
"""How far apart in publication two copies of one story may be (see ``near_in_time``)."""
MIN_WORDS = 80
"""Texts shorter than this are never near-dup matched: too few shingles for a stable hash
(short agency briefs and ticker items differ in a few words and would collide)."""

_MASK = (1 << BITS) - 1
_FLIPS = tuple(1 << i for i in range(BAND_BITS))
_WORD = re.compile(r"\w+")
_word_cache: dict[str, tuple[int, int, int]] = {}
_WORD_CACHE_MAX = 500_000


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (BITS - shift))) & _MASK


def _word_hashes(word: str) -> tuple[int, int, int]:
    # A stable hash (not ``hash()``, which is salted per process) and two rotations of it,
    # so a shingle hash is three XORs and word order still matters.
    if len(_word_cache) >= _WORD_CACHE_MAX:
        _word_cache.clear()
    value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
    cached = _word_cache[word] = (value, _rotl(value, 21), _rotl(value, 42))
    return cached


def words(text: str) -> list[str]:
    """Lower-cased word tokens; punctuation and typography do not matter for identity."""
    return _WORD.findall(text.lower())


def simhash(text: str) -> int:
    """Unsigned 64-bit SimHash of ``text`` over word 3-shingles (0 for an empty text)."""
    return _simhash_words(words(text))


def fingerprint(text: str | None) -> int | None:
    """SimHash of a body long enough to be near-dup matched (see ``MIN_WORDS``), else None.

    Pure and deterministic across processes and versions (no salted ``hash()``): safe to
    call in a worker process and store on the item as ``simhash`` (unsigned 64-bit int).
    ``text`` must be the body exactly as the item carries it to the store.
    """
    tokens = words(text) if text else []
    return _simhash_words(tokens) if len(tokens) >= MIN_WORDS else None


def _simhash_words(tokens: list[str]) -> int:
    cache = _word_cache  # the lookup is inlined: this loop runs once per word of every body
    hashed = [cache.get(word) or _word_hashes(word) for word in tokens]
    if len(hashed) < SHINGLE_WORDS:
        shingles = [h[0] for h in hashed]
    else:
        shingles = [
            a[0] ^ b[1] ^ c[2] for a, b, c in zip(hashed, hashed[1:], hashed[2:], strict=False)
        ]
    if not shingles:
        return 0
    # Bit counting in C: each byte column of the packed hashes becomes one big int, and a
    # mask with one bit per byte picks bit k of every hash at once for ``bit_count``.
    data = struct.pack(f"<{len(shingles)}Q", *shingles)
    ones = int.from_bytes(b"\x01" * len(shingles), "little")
    half = len(shingles) / 2
    result = 0
    for byte in range(8):
        column = int.from_bytes(data[byte::8], "little")
        for bit in range(8):
            if ((column >> bit) & ones).bit_count() > half:
                result |= 1 << (byte * 8 + bit)
    return result


def probes(band: int) -> list[int]:
    """``band`` and every value one bit away from it.

    Probing these finds every stored hash within ``MAX_DISTANCE`` = 7 bits: if all four
    bands differed in two or more bits the hashes would be at least 8 bits apart.
    """
    return [band, *[band ^ flip for flip in _FLIPS]]


def near_in_time(a: datetime | None, b: datetime | None) -> bool:
    """Whether stories published at ``a`` and ``b`` may be copies of each other: within
    ``NEAR_DUPLICATE_WINDOW``, or either date unknown (an undated story matches any)."""
    return a is None or b is None or abs(a - b) <= NEAR_DUPLICATE_WINDOW


def distance(a: int, b: int) -> int:
    """Hamming distance of two 64-bit hashes."""
    return ((a ^ b) & _MASK).bit_count()


def bands(value: int) -> list[int]:
    """The ``BANDS`` 16-bit slices of a hash, lowest first (the indexed lookup keys)."""
    return [(value >> (i * BAND_BITS)) & ((1 << BAND_BITS) - 1) for i in range(BANDS)]


def to_signed(value: int) -> int:
    """Unsigned 64-bit hash → the signed value a BIGINT column can hold."""
    return value - (1 << BITS) if value >= 1 << (BITS - 1) else value


def from_signed(value: int) -> int:
    """Inverse of ``to_signed``."""
    return value & _MASK
