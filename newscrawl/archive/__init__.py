"""WARC in and out: keep what a crawl fetched, and read archived pages back in.

* ``records``: pure functions that turn an HTTP exchange into WARC record bytes
  (warcio builds the records) and name the files;
* ``files``: the rotating ``.warc.gz`` files, one gzip member per record, killed
  crawls included (``seal``);
* ``middleware``: the downloader middleware that writes every article response
  (``NEWSCRAWL_WARC_DIR``);
* ``reader``: expands ``-a warc=`` paths and reads response records (fastwarc), cut
  records included;
* ``select``: which records are articles to import, and the redirects that led to them;
* ``checkpoint``: where a resumed ``ippen-archive`` run starts in each file.

The spider that imports archives is ``newscrawl/spiders/archive.py``.
"""
