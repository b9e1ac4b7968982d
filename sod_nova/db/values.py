"""What every sod-nova db module shares: times, name checks, a retry.

Every sod-nova table keeps its times as seconds since the epoch (a double,
as the relocation, audit and lease tables always did); its row objects give
them out as aware UTC datetimes where they always did. Nothing here opens a
transaction.
"""

import datetime

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import timeutils


def now():
    """The current time, in seconds since the epoch."""
    return timeutils.utcnow(True).timestamp()


def to_epoch(when):
    """Seconds since the epoch of a datetime (naive ones are UTC), or
    None."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.timestamp()


def from_epoch(seconds):
    """The aware UTC datetime of ``seconds`` since the epoch, or None."""
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def check_name(what, value):
    """Refuse an empty or non-string name (``ValueError`` naming ``what``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError('%s must be a non-empty string, not %r' % (what, value))


#: Try an upsert again when a concurrent writer inserted the row first.
retry_on_duplicate = oslo_db_api.wrap_db_retry(
    max_retries=3, retry_interval=0.05,
    exception_checker=lambda exc: isinstance(exc, db_exc.DBDuplicateEntry))
