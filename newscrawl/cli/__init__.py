"""The ``newscrawl`` command (``main.py``); ``reading.py`` is also ``scrapy articles``."""
