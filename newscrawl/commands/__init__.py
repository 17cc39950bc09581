"""newscrawl's Scrapy commands (``COMMANDS_MODULE``): ``crawl`` with exit statuses cron can read.

Scrapy imports this package before its commands' modules, whose imports (the store, the
cluster) take a good part of a crawl's start-up: Ctrl-C during them is one line and exit 1
(``startup``), for ``scrapy crawl`` only (``scrapy articles`` has its own handling).
"""

import sys

from newscrawl.commands import startup

if startup.command_name(sys.argv) == "crawl":
    startup.install()
