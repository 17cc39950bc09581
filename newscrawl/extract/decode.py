"""From what the server sent to one lxml tree: charset, binary and truncation checks.

Decoding is done here rather than by lxml because lxml guesses Latin-1 for a byte
string without a declared charset, and the network's current layout declares none
(its pages are UTF-8). The order follows how real pages lie: a byte string that is
valid UTF-8 *is* UTF-8 whatever it declares (Latin-1 text with umlauts is practically
never valid UTF-8). A page that is mostly UTF-8 but for some stray bytes (a Windows-1252
quote pasted into the CMS, a page cut mid-character) stays UTF-8, each invalid byte read
as Windows-1252: decoding it all as anything else would garble every umlaut. Otherwise
the declared charset, otherwise Windows-1252, the WHATWG reading of "ISO-8859-1"
(which is also what a cp1252 or Latin-1 page that claims to be UTF-8 gets).
"""

from __future__ import annotations

import codecs
import re

import lxml.etree
import lxml.html

from newscrawl.extract.errors import ExtractionError

_SNIFF_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([\w.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)
_CLOSING_TAG = re.compile(r"</(?:html|body)\s*>", re.I)
# UTF-8 read as Windows-1252: "Ã¤" for "ä", "â€ž" for "„".
_MOJIBAKE = re.compile("Ã[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2013-\u203a]|â€")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")
# A well-formed UTF-8 multi-byte sequence (RFC 3629, overlongs aside), and every byte
# that can only occur in one.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_FALLBACK = "newscrawl-cp1252-fallback"
# WHATWG: these labels mean Windows-1252 in practice.
_LATIN1_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii"})


def decode_html(html: str | bytes, charset: str | None = None) -> str:
    """The page as text; raises ExtractionError('empty'|'binary'|'charset').

    ``charset`` is the one the server declared (the ``Content-Type`` header): it wins
    over the page's ``<meta charset>``, but not over bytes that are UTF-8.
    """
    if isinstance(html, bytes | bytearray):
        return _decode_bytes(bytes(html), charset)
    if not isinstance(html, str):
        raise ExtractionError("unparsable", f"expected str or bytes, got {type(html).__name__}")
    if not html.strip():
        raise ExtractionError("empty", "page is empty")
    _reject_binary(html[:_SNIFF_BYTES])
    return _repair_mojibake(html)


def parse_html(text: str) -> lxml.html.HtmlElement:
    """Parse once; raises ExtractionError('truncated'|'unparsable')."""
    if not _CLOSING_TAG.search(text, max(0, len(text) - 65536)) and not _CLOSING_TAG.search(text):
        # A page cut off in transfer parses fine in lxml (it closes what is open), and
        # would be stored with half a body; neither </body> nor </html> means cut off.
        raise ExtractionError("truncated", "document has no closing </body> or </html>")
    try:
        tree = lxml.html.document_fromstring(_XML_DECL.sub("", text, count=1))
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractionError("unparsable", f"lxml could not parse the page: {exc}") from exc
    if tree is None or tree.find("body") is None:
        raise ExtractionError("unparsable", "page has no <body>")
    return tree


def _decode_bytes(raw: bytes, charset: str | None = None) -> str:
    if not raw.strip():
        raise ExtractionError("empty", "page is empty")
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16")):
        if raw.startswith(bom):
            return _decoded(raw, encoding)
    if raw.startswith(codecs.BOM_UTF16_BE):
        return _decoded(raw, "utf-16")
    _reject_binary(raw[:_SNIFF_BYTES].decode("latin-1"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _mostly_utf8(raw):
        return raw.decode("utf-8", errors=_FALLBACK)
    declared = _charset_name(charset) if charset else _declared_charset(raw[:_SNIFF_BYTES])
    if declared and declared not in ("utf-8", "utf8"):
        try:
            return raw.decode(declared)
        except (LookupError, UnicodeDecodeError):
            pass
    # Windows-1252 leaves five bytes undefined; Latin-1 maps every byte, so the
    # fallback always yields text and umlauts stay right.
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: the bytes UTF-8 could not read, read as Windows-1252."""
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK, _cp1252_fallback)


def _mostly_utf8(raw: bytes) -> bool:
    """More well-formed UTF-8 sequences than stray high bytes: a UTF-8 page with slips.

    A Windows-1252 or Latin-1 page has (practically) no well-formed multi-byte sequence:
    its umlauts are single bytes between ASCII ones.
    """
    sequences = _UTF8_SEQUENCE.findall(raw)
    high_bytes = len(raw) - len(raw.translate(None, _HIGH_BYTES))
    return len(sequences) > high_bytes - sum(map(len, sequences))


def _decoded(raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ExtractionError("charset", f"bytes are not valid {encoding}") from exc
    if not text.strip():
        raise ExtractionError("empty", "page is empty")
    return text


def _declared_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    return _charset_name(match.group(1).decode("ascii", "replace")) if match else None


def _charset_name(label: str) -> str | None:
    label = label.strip().lower()
    if label in _LATIN1_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _reject_binary(head: str) -> None:
    """Binary junk served as text/html: NUL bytes or many control characters up front."""
    if "\x00" in head or len(_CONTROL.findall(head)) > max(8, len(head) // 50):
        raise ExtractionError("binary", "page is binary, not HTML")
    if head.startswith("%PDF-"):
        raise ExtractionError("binary", "page is a PDF, not HTML")


def _repair_mojibake(text: str) -> str:
    """A str decoded with the wrong charset upstream: undo it, or refuse it."""
    if ("Ã" not in text and "â€" not in text) or len(_MOJIBAKE.findall(text, 0, 200_000)) < 3:
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    raise ExtractionError("charset", "text was decoded with the wrong charset (mojibake)")
