"""Word-level scoring of an extracted text against hand-checked content.

Shared by the tests and ``benchmarks/evaluate_extraction.py`` so both judge the same way:
tokens are lowercased words with punctuation stripped, compared as bags of words
(multiset overlap), which rewards the right words regardless of paragraph breaks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"\w+")

TARGET_F1 = 0.98
TARGET_PRECISION = 0.98


@dataclass(frozen=True)
class WordScore:
    precision: float
    recall: float
    f1: float

    @property
    def meets_targets(self) -> bool:
        return self.f1 >= TARGET_F1 and self.precision >= TARGET_PRECISION


@dataclass(frozen=True)
class SnippetReport:
    missing: list[str]
    """``with`` snippets not found."""
    leaked: list[str]
    """``without`` and ``comments`` snippets that were found."""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.leaked


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def word_scores(predicted: str, expected: str) -> WordScore:
    got, want = Counter(tokens(predicted)), Counter(tokens(expected))
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else 0.0
    recall = overlap / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return WordScore(precision, recall, f1)


def expected_body(expected: dict[str, Any]) -> str:
    """The body of a ``*.expected.json`` file: crossheads and paragraphs, lead excluded."""
    parts: list[str] = []
    for section in expected.get("sections", []):
        parts.extend(section.get("crosshead", []))
        parts.extend(section.get("paragraphs", []))
    return "\n\n".join(parts)


def check_snippets(text: str, expected: dict[str, Any]) -> SnippetReport:
    """Snippets of a ``*.expected-snippets.json`` file against a text."""
    flat = _flat(text)
    missing = [s for s in expected.get("with", []) if _flat(s) not in flat]
    unwanted: Iterable[str] = [*expected.get("without", []), *expected.get("comments", [])]
    leaked = [s for s in unwanted if _flat(s) in flat]
    return SnippetReport(missing=missing, leaked=leaked)


def _flat(text: str) -> str:
    # Snippets are matched across paragraph breaks and no-break spaces.
    return " ".join(text.split())
