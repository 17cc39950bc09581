"""The one exception the extractor raises."""

from __future__ import annotations


class ExtractionError(Exception):
    """A page that yields no article.

    ``reason`` is a short slug for stats keys (``newscrawl/extract/failed/<reason>``):
    ``empty``, ``binary``, ``charset``, ``truncated``, ``unparsable``, ``not_article``,
    ``no_text``. The message says what was wrong, in one line.
    """

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[str, str]]:
        # Raised inside worker processes: must survive pickling with its reason.
        return (type(self), (self.reason, str(self)))
