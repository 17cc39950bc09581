"""The log rules: passwords redacted, a network failure on one line, other errors whole.

The end-to-end checks are in test_cron.py (a crawl's whole log); these pin the rules on
records a logger makes here and on records a worker process sends back.
"""

from __future__ import annotations

import io
import logging
import pickle
from collections.abc import Iterator

import pytest
from scrapy.exceptions import CannotResolveHostError

from newscrawl.logs import follow_log_rules, install_log_rules

URL = "postgresql+psycopg://crawler:hunter2@db.example/news"
REDACTED = "postgresql+psycopg://crawler:***@db.example/news"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    previous_factory = logging.getLogRecordFactory()
    install_log_rules()
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, out
    logger.removeHandler(handler)
    logging.setLogRecordFactory(previous_factory)


def _raise(exc: Exception) -> None:
    raise exc


def test_records_are_redacted_and_network_errors_are_one_line(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    logger.warning("store at %s is down", URL)
    for exc in (CannotResolveHostError("DNS lookup failed: www.fr.de"), KeyError("bug")):
        try:
            _raise(exc)
        except Exception as caught:
            logger.error("Error downloading: %s", caught, exc_info=True)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"WARNING store at {REDACTED} is down"
    assert lines[1] == "ERROR Error downloading: DNS lookup failed: www.fr.de"
    assert lines[2] == "ERROR Error downloading: 'bug'"
    assert lines[3] == "Traceback (most recent call last):"  # a bug keeps its traceback
    assert lines[-1] == "KeyError: 'bug'"


def test_a_record_from_a_worker_process_follows_the_rules(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, out = log
    made_elsewhere = logging.LogRecord("tests.logs", logging.ERROR, __file__, 1,
                                       "cannot reach %s", (URL,), None)  # fmt: skip
    arrived = pickle.loads(pickle.dumps(made_elsewhere))  # as the writer's records travel
    logger.handle(follow_log_rules(arrived))
    assert out.getvalue() == f"ERROR cannot reach {REDACTED}\n"
