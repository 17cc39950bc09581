"""What a database failure looks like outside the store: one line, no password."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError


class StoreError(Exception):
    """The database failed; the message is one line without the password.

    ``outage``: it could not be reached (a retry later may work)."""

    def __init__(self, message: str, *, outage: bool = False) -> None:
        super().__init__(message)
        self.outage = outage


class StoreUnavailable(Exception):
    """The database could not be reached (or the writer process died): retry later."""


class StoreRefused(Exception):
    """The database refused the batch for a reason a retry will not fix."""


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means 'the database is unreachable or full', worth retrying."""
    if isinstance(exc, OperationalError | InterfaceError | StoreUnavailable):
        return True
    if isinstance(exc, StoreError):
        return exc.outage
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def one_line(exc: BaseException) -> str:
    """The first line of what the database (driver) said."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


@contextlib.contextmanager
def store_errors() -> Iterator[None]:
    """Database exceptions leave the store as ``StoreError``."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise StoreError(one_line(exc), outage=is_outage(exc)) from None
