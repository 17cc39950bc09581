"""The registry is the crawl's whole world: no request leaves its origins, whatever asks.

Scrapy's ``OffsiteMiddleware`` compares host names only, and lets any request with
``dont_filter`` (every source of the registry, and whatever a source redirects to) or
``allow_offsite`` through. A crawler that a redirect can send to
``127.0.0.1:5432``, to a portal's host on another port or to any other host is a
server-side request forgery waiting to happen, so this subclass checks the origin
(scheme, host and port, as written in the registry's ``base_url``) of every request,
redirects and robots.txt included, and has no exceptions. It runs where Scrapy's does
(engine side, before robots.txt), both when a request is scheduled and when it is
downloaded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest

from newscrawl.urls import origin_of

if TYPE_CHECKING:
    from scrapy import Request, Spider

logger = logging.getLogger(__name__)


class RegistryOffsiteMiddleware(OffsiteMiddleware):
    """Drops every request whose origin is not a portal's ``base_url`` origin."""

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        network = getattr(self.crawler.spider, "network", None)
        if network is None:  # not newscrawl's spider: Scrapy's own rules
            return super().process_request(request)
        if network.site_at(request.url) is not None:
            return None
        origin = origin_of(request.url)
        redirected_from = request.meta.get("redirect_urls", [])
        self.stats.inc_value("newscrawl/offsite/dropped")
        if redirected_from:
            self.stats.inc_value("newscrawl/offsite/dropped/redirect")
        if origin not in self.domains_seen:  # once per origin: a log line, not a flood
            self.domains_seen.add(origin)
            self.stats.inc_value("newscrawl/offsite/origins")
            via = f" (redirected from {redirected_from[-1]})" if redirected_from else ""
            logger.warning("Not requested, outside the registry: %s%s", request.url, via)
        raise IgnoreRequest(f"outside the registry: {origin}")
