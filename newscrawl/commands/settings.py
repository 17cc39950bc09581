"""``scrapy settings``, with database passwords masked.

Scrapy's own command prints a setting as it is; ``NEWSCRAWL_DATABASE_URL`` (and any other
``*_URL``) carries a password, which must never reach a terminal, a log or a CI page. This
command replaces Scrapy's (``COMMANDS_MODULE``) and masks the values before Scrapy's code
prints them: a URL setting whole (``mask_url``, also when it is malformed), every other
string where it holds a URL with a password (``redact``).
"""

from __future__ import annotations

import argparse

from scrapy.commands.settings import Command as ScrapySettingsCommand
from scrapy.settings import BaseSettings

from newscrawl.store.engine import mask_url, redact


def masked(name: str, value: object) -> object:
    """``value`` as it may be shown (pure: tested as a table)."""
    if not isinstance(value, str):
        return value
    if name.upper().endswith(("_URL", "_URI")):
        return mask_url(value)
    return redact(value)


class Command(ScrapySettingsCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        shown = BaseSettings()
        for name in self.settings:
            value = self.settings[name]
            shown.set(name, masked(name, value), priority=self.settings.getpriority(name) or 0)
        self.settings = shown
        super().run(args, opts)
