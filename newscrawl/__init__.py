"""newscrawl: a Scrapy crawler for the Ippen Digital news network."""
