"""SimHash near-duplicate rules, measured on variants of the real fixture texts."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from newscrawl.store import dedup
from tests.dbs import fixture_paragraphs


def _dateline(p: list[str]) -> str:
    return "\n".join(["Frankfurt – " + p[0], *p[1:]])


def _author(p: list[str]) -> str:
    return "\n".join([*p, "Von Max Mustermann"])


def _agency(p: list[str]) -> str:
    return "\n".join([*p, "(dpa/afp)"])


def _all_three(p: list[str]) -> str:
    return "\n".join(["Berlin (dpa) – " + p[0], *p[1:], "Von Anna Schmidt", "Mit Material von dpa"])


def _two_words(p: list[str]) -> str:
    words = p[1].split()
    words[len(words) // 2], words[3] = "außerdem", "sogar"
    return "\n".join([p[0], " ".join(words), *p[2:]])


def _drop_last(p: list[str]) -> str:
    return "\n".join(p[:-1])


def _typography(p: list[str]) -> str:
    return "\n".join(p).replace("„", '"').replace("“", '"').replace(" – ", " - ")


EDITS: dict[str, Callable[[list[str]], str]] = {
    "dateline": _dateline, "author": _author, "agency": _agency, "all three": _all_three,
    "two words": _two_words, "last paragraph dropped": _drop_last, "typography": _typography,
}  # fmt: skip
# The table in newscrawl/store/dedup.py: (ambrosia, nordkorea, musk) bits.
SAME_STORY = {
    "dateline": (1, 0, 1), "author": (0, 1, 5), "agency": (1, 0, 2), "all three": (2, 0, 5),
    "two words": (3, 2, 5), "last paragraph dropped": (6, 5, 18), "typography": (0, 0, 0),
}  # fmt: skip
TEXTS = ("ambrosia", "nordkorea", "musk")


def _sharing(p: list[str], shared: list[str], front: bool = False) -> tuple[str, str]:
    """Two different stories on one topic: each half of the text, plus shared paragraphs."""
    half = len(p) // 2
    second = [*shared, *p[half:]] if front else [*p[half:], *shared]
    return "\n".join(p[:half]), "\n".join(second)


OTHER_STORY = {
    "share 1 paragraph": (lambda p: _sharing(p, [p[1]]), (20, 27, 27)),
    "share 2 paragraphs": (lambda p: _sharing(p, p[1:3]), (17, 24, 30)),
    "share 2 paragraphs up front": (lambda p: _sharing(p, p[1:3], front=True), (17, 25, 32)),
}


@pytest.mark.parametrize("edit", SAME_STORY)
def test_edited_copies_are_within_threshold(edit: str) -> None:
    paragraphs = fixture_paragraphs()
    distances = tuple(
        dedup.distance(
            dedup.simhash("\n".join(paragraphs[t])), dedup.simhash(EDITS[edit](paragraphs[t]))
        )
        for t in TEXTS
    )
    assert distances == SAME_STORY[edit]
    # Small edits of the two long texts are always recognised.
    assert max(distances[:2]) <= dedup.MAX_DISTANCE


@pytest.mark.parametrize("case", OTHER_STORY)
def test_stories_sharing_paragraphs_stay_apart(case: str) -> None:
    build, expected = OTHER_STORY[case]
    distances = []
    for name in TEXTS:
        first, second = build(fixture_paragraphs()[name])
        distances.append(dedup.distance(dedup.simhash(first), dedup.simhash(second)))
    assert tuple(distances) == expected
    assert min(distances) > 2 * dedup.MAX_DISTANCE


def test_unrelated_stories_are_far_apart() -> None:
    hashes = [dedup.simhash("\n".join(fixture_paragraphs()[t])) for t in TEXTS]
    assert [dedup.distance(hashes[0], hashes[1]), dedup.distance(hashes[0], hashes[2]),
            dedup.distance(hashes[1], hashes[2])] == [36, 26, 30]  # fmt: skip


def test_hash_is_stable_across_processes_and_versions() -> None:
    # Stored hashes are compared with new ones for years: the function must not drift.
    assert dedup.simhash("Der Tesla-Chef lädt den Kreml-Chef zu einem Gespräch ein") == (
        0x4545015AF27F6F61
    )
    assert dedup.simhash("") == 0


def test_word_order_matters_unlike_a_bag_of_words() -> None:
    text = " ".join(fixture_paragraphs()["ambrosia"]).split()
    shuffled = text[:]
    random.Random(4).shuffle(shuffled)
    assert dedup.distance(dedup.simhash(" ".join(text)), dedup.simhash(" ".join(shuffled))) > 20


def test_short_bodies_get_no_fingerprint() -> None:
    assert dedup.fingerprint(" ".join(["Wort"] * (dedup.MIN_WORDS - 1))) is None
    assert dedup.fingerprint(" ".join(["Wort"] * dedup.MIN_WORDS)) is not None
    assert dedup.fingerprint(None) is None


def test_band_probes_find_every_hash_within_the_threshold() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        a = rng.getrandbits(64)
        flips = rng.sample(range(64), rng.randint(0, dedup.MAX_DISTANCE))
        b = a
        for bit in flips:
            b ^= 1 << bit
        stored = dedup.bands(b)
        assert any(stored[i] in dedup.probes(band) for i, band in enumerate(dedup.bands(a)))


def test_band_probes_can_miss_at_eight_bits() -> None:
    # The guarantee ends at 7: two flipped bits in every band escape all probes.
    b = 0
    for band in range(dedup.BANDS):
        b ^= 0b11 << (band * dedup.BAND_BITS)
    assert not any(dedup.bands(b)[i] in dedup.probes(0) for i in range(dedup.BANDS))


def test_signed_storage_round_trips() -> None:
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1):
        signed = dedup.to_signed(value)
        assert -(1 << 63) <= signed < 1 << 63
        assert dedup.from_signed(signed) == value


DAY = datetime(2024, 4, 26, 18, 44, tzinfo=UTC)


@pytest.mark.parametrize(
    ("a", "b", "near"),
    [
        (DAY, DAY, True),
        (DAY, DAY + timedelta(days=7), True),
        (DAY + timedelta(days=7), DAY, True),
        (DAY, DAY + timedelta(days=7, seconds=1), False),
        (DAY - timedelta(days=7, seconds=1), DAY, False),
        (DAY, DAY + timedelta(days=400), False),
        (None, DAY, True),
        (DAY, None, True),
        (None, None, True),
    ],
)  # fmt: skip
def test_copies_are_published_within_a_week_of_each_other_or_undated(
    a: datetime | None, b: datetime | None, near: bool
) -> None:
    assert dedup.near_in_time(a, b) is near
