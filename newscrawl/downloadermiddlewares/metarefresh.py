"""Scrapy's meta-refresh redirects, read from the page's head instead of the whole page.

Scrapy's ``MetaRefreshMiddleware`` looks for ``<meta http-equiv="refresh">`` in the
first 4,096 characters of every HTML response, but gets them as ``response.text[:4096]``:
it decodes the whole page (a 130 KB article: 260 KB of text, kept on the response until
the spider is done with it) to read its head, 2.7 % of the crawl process's CPU in a
profile. The spider reads its page from the bytes (``spiders/links.py``) and the worker
decodes it once, so this decode was the crawl process's only one.

Here the same 4,096 characters are decoded from the body's first bytes, exactly as
``TextResponse.text`` decodes them (the same w3lib call, the same encoding), and given to
the same w3lib functions Scrapy calls: the decision is Scrapy's, character for character.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.httpobj import urlparse_cached
from w3lib.encoding import html_to_unicode
from w3lib.html import get_base_url, get_meta_refresh

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response, TextResponse

HEAD_CHARACTERS = 4096
"""What Scrapy's ``get_meta_refresh`` and ``get_base_url`` read of a page."""
_HEAD_BYTES = 4 * HEAD_CHARACTERS + 16
"""Bytes enough for that many characters in any encoding of at most four bytes a
character; where they decode to fewer (a page declared ``unicode-escape``: six bytes for
a "€"), the whole page is decoded as before."""
_TRUNCATION_SLACK = 4
"""Replacement characters a multi-byte character cut at the end of the bytes can become."""


def head_text(response: TextResponse) -> str:
    """``response.text[:4096]``, decoding only as much of the body as it takes."""
    body = response.body
    encoding = response.encoding
    if len(body) > _HEAD_BYTES:
        head = html_to_unicode(f"charset={encoding}", body[:_HEAD_BYTES])[1]
        if len(head) >= HEAD_CHARACTERS + _TRUNCATION_SLACK:
            return head[:HEAD_CHARACTERS]
    return response.text[:HEAD_CHARACTERS]


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """``MetaRefreshMiddleware`` (same settings, same decisions) that decodes the head only."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return response
        head = head_text(response)
        base = get_base_url(head, response.url, response.encoding)
        interval, url = get_meta_refresh(
            head, base, response.encoding, ignore_tags=self._ignore_tags
        )
        if not url:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        if interval < self._maxdelay:
            return self._redirect(redirected, request, "meta refresh")
        return response
