"""Deterministic German-looking text built from the real fixtures' vocabulary.

The store detects near-duplicates by SimHash/MinHash over word shingles, so two mock
articles must not share runs of words. Bodies are therefore drawn word by word, uniformly,
from the fixtures' vocabulary (~1,500 distinct words): two bodies then share essentially
no 3-word shingle, while each still reads like German news text to an extractor
(sentences, paragraphs, crossheads, umlauts).
"""

from __future__ import annotations

import html
import json
import random
import re
from functools import cache

from tests.extract_fixtures import FIXTURES

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{3,}")
_INVISIBLE = re.compile(r"<(script|style|svg)\b.*?</\1>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


@cache
def vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(capitalised words, lower-case words) of the fixtures' visible text, sorted."""
    texts = [(FIXTURES / "000_4523c469ae94144c.txt").read_text(encoding="utf-8")]
    expected = json.loads((FIXTURES / "fr.de-2024-ambrosia.expected.json").read_text("utf-8"))
    texts += [p for section in expected["sections"] for p in section["paragraphs"]]
    for name in ("fr.de-2020-nordkorea.html", "fr.de-2024-ambrosia.html"):
        page = (FIXTURES / name).read_text(encoding="utf-8")
        texts.append(html.unescape(_TAG.sub(" ", _INVISIBLE.sub(" ", page))))
    words = {w for text in texts for w in _WORD.findall(text)}
    capitalised = tuple(sorted(w for w in words if w[0].isupper()))
    lower = tuple(sorted(w for w in words if w[0].islower()))
    return capitalised, lower


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by a stable string (``hash()`` of str is salted per process)."""
    return random.Random("/".join(map(str, parts)))


def _words(rng: random.Random, count: int) -> list[str]:
    capitalised, lower = vocabulary()
    return [rng.choice(capitalised if rng.random() < 0.35 else lower) for _ in range(count)]


def sentence(rng: random.Random, low: int = 7, high: int = 16) -> str:
    words = _words(rng, rng.randint(low, high))
    words[0] = words[0][0].upper() + words[0][1:]
    if len(words) > 9 and rng.random() < 0.5:
        cut = rng.randint(3, len(words) - 3)
        words[cut] += ","
    return " ".join(words) + rng.choice(".....!?")


def title(rng: random.Random, serial: int) -> str:
    """A title unique per ``serial``: its first and last words encode the serial.

    Random titles could collide; the store relies on distinct titles, so the first word
    is ``capitalised[serial % C]`` and the last ``lower[(serial // C) % L]``. Beyond
    ``C * L`` serials (~190,000) a number keeps them apart.
    """
    capitalised, lower = vocabulary()
    first = capitalised[serial % len(capitalised)]
    last = lower[(serial // len(capitalised)) % len(lower)]
    middle = " ".join(_words(rng, rng.randint(3, 6)))
    suffix = f" {serial}" if serial >= len(capitalised) * len(lower) else ""
    return f"{first} {middle} {last}{suffix}"


def paragraphs(rng: random.Random) -> list[tuple[str, str]]:
    """Story elements as (kind, text), kind ``"p"`` or ``"h"`` (crosshead); ~300-600 words."""
    elements: list[tuple[str, str]] = []
    for index in range(rng.randint(5, 8)):
        if index in (2, 5):
            elements.append(("h", " ".join(_words(rng, rng.randint(3, 6))).capitalize()))
        elements.append(("p", " ".join(sentence(rng) for _ in range(rng.randint(3, 5)))))
    return elements


_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_words: int = 8) -> str:
    """The network's slug: lower case, umlauts transliterated, words joined by dashes."""
    words = [w for w in _NON_SLUG.split(text.lower().translate(_TRANSLIT)) if w]
    return "-".join(words[:max_words])
