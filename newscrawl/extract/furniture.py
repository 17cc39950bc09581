"""What is page furniture rather than article: the network's UI strings, credits and footnotes.

Two layers use this module. The layout walkers in ``body.py`` never descend into the
subtrees named in :data:`FURNITURE_CLASSES`; and every paragraph, whichever extractor
produced it, passes through :func:`clean_paragraph`, which drops lines that are UI
labels or credits and strips the network's affiliate footnote and asterisks. The text
layer exists because the generic (trafilatura) fallback and inline footnotes cannot be
caught by class names alone.
"""

from __future__ import annotations

import re

# Class fragments of subtrees inside a story that are never body: recommendation and
# interstitial teasers, comments, ads, embeds, share/action bars, author layers, figures.
FURNITURE_CLASSES: tuple[str, ...] = (
    "id-StoryElement-intestitialLink",
    "id-StoryElement-interstitialLink",
    "id-StoryElement-image",
    "id-StoryElement-embed",
    "id-StoryElement-gallery",
    "id-StoryElement-tableOfContents",  # a ticker's chapter links: navigation
    "id-Recommendation",
    "id-Comments",
    "id-TBeepSlot",
    "id-Story-interactionBar",
    "id-Story-authors",
    "id-Story-timestamp",
    "id-AuthorLayer",
    "id-Article-advert",
    "id-Article-content-item-copyright",
    "id-Article-content-item--boxCenter",
    "id-Mediabox",
    "id-Actionbox",
    "id-Teaser",
    "id-Teaser-list",  # teaser lists inside a story ("Meine News"), with their kickers
    "id-Teaser-el",
    "twitter-tweet",
    "instagram-media",
    "OUTBRAIN",
    "Breadcrumb",
)

# One alternation instead of a loop: this runs for every element the walkers visit.
# A class must end where the fragment ends ("id-Story-authors", not "id-Story-authors-link"):
# the parts inside a furniture subtree are excluded through their ancestor anyway.
_FURNITURE_CLASS = re.compile(f"(?:{'|'.join(map(re.escape, FURNITURE_CLASSES))})(?![\\w-])")

# Whole lines that are UI labels, compared case-insensitively after trimming
# punctuation and bullet dashes ("- Weitere", "- 5 Kommentare").
UI_LABELS: frozenset[str] = frozenset(
    s.casefold()
    for s in (
        "schließen",
        "Auch interessant",
        "Kommentare",
        "Kommentar",
        "Mehr zum Thema",
        "Das könnte Sie auch interessieren",
        "Weitere Artikel",
        "Weitere",
        "Zur Startseite",
        "Abo-Service",
        "Drucken",
        "Teilen",
        "Fotostrecke ansehen",
        "Newsletter",
        "Jetzt abonnieren",
        "Zum Newsletter",
        "Mehr lesen",
        "Lesen Sie auch",
        "Meine news",
    )
)

_LINE_JUNK = re.compile(
    r"""^(?:
        [-–•]?\s*\d+\s+Kommentare?                       # comment counters
      | (?:Rubriklisten|Listen|Vorschau|Titel)bild:?\s*©.*  # list-image credits
      | (?:Foto|Bild|Quelle|Fotos|Bilder)?:?\s*©.{0,80}     # bare image credits
      | .{0,60}\bNewsletter\b.{0,80}\b(?:abonnieren|anmelden)\b.*
      | .{0,80}\b(?:Cookies?|Einwilligung|Consent)\b.{0,200}
        \b(?:zustimmen|akzeptieren|Einstellungen)\b.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# The network's affiliate footnote in all its variants, e.g.
# "*24auto.de ist Teil des Ippen-Digital-Netzwerks",
# "*fr.de ist Teil des bundesweiten Ippen-Redaktionsnetzwerks",
# "*merkur.de ist ein Angebot von IPPEN.MEDIA". It may stand alone or trail a paragraph.
_FOOTNOTE = re.compile(
    r"""\*\s?[^*\n]{0,120}?\b(?:ist|sind)\s+(?:ein\s+|eine\s+)?(?:Teil|Angebot|Mitglied)\s+
        (?:des|der|von)\s+[^\n]{0,80}?
        (?:[\w-]*[Nn]etzwerks?|IPPEN\.MEDIA|Ippen[ -]Media(?![\w-])|Ippen[ -]Digital(?![\w-]))
        \.?""",
    re.VERBOSE,
)
# "Tesla-CEO*", "24auto.de*", "Donald Trump*": the marker pointing at that footnote.
_MARKER = re.compile(r"(?<=[\w.)])\*(?=[\s.,;:!?)\]“”\"'’]|$)")

# A closing agency credit such as "(FR mit dpa)", "(dpa)", "(ml/AFP)".
CLOSING_CREDIT = re.compile(
    r"\s*\((?P<credit>[^()\n]{1,40}?(?:\bdpa\b|\bAFP\b|\bAP\b|\bReuters\b|\bepd\b|\bKNA\b|"
    r"\bSID\b|\bdts\b|\bmit\b|/)[^()\n]{0,20})\)\s*$",
    re.IGNORECASE,
)


def normalize_space(text: str) -> str:
    """One space for any run of whitespace (including the no-break spaces the CMS loves)."""
    return " ".join(text.split())


def is_ui_label(line: str) -> bool:
    """True for a line that is a UI string, a counter or a credit, not prose."""
    bare = line.strip(" -–•:|·\t").casefold()
    return bare in UI_LABELS or bool(_LINE_JUNK.match(line.strip()))


def strip_affiliate_marks(text: str) -> str:
    """Remove the affiliate footnote and the asterisks that point at it, keep the words."""
    if "*" not in text:
        return text
    text = _FOOTNOTE.sub("", text)
    return normalize_space(_MARKER.sub("", text))


def clean_paragraph(text: str) -> str:
    """A paragraph as it goes into ``text``: '' when the whole line is furniture."""
    text = strip_affiliate_marks(normalize_space(text))
    if not text or is_ui_label(text):
        return ""
    return text


def has_furniture_class(class_attr: str | None) -> bool:
    return bool(class_attr) and _FURNITURE_CLASS.search(class_attr) is not None
