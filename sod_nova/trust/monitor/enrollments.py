"""The monitor's per-host state: enrollments, and what it last wrote.

Only enrolled hosts have state (a name nobody enrolled leaves none behind).
A record carries what the verifier needs besides the key: the freshness of
the host's reports, the signatures of its last accepted reports, and its
TPM's keys, clock and pending credentials, each read from the group's
database, where every member writes them.
"""

from sod_nova.db import enrollment as db_enrollment
from sod_nova.db import tpm_state
from sod_nova.trust import keys
from sod_nova.trust import verify
from sod_nova.trust.monitor import tpm_enrollment


def freshness(row):
    """The verifier's freshness of an enrollment row."""
    return from_db_tuple(row.freshness)


def from_db_tuple(fresh):
    """The verifier's freshness of an enrollment row's freshness tuple."""
    boot, seq, seen, nonce_ms = fresh
    return verify.Freshness(boot, seq, seen, nonce_ms / 1000.0)


def db_tuple(fresh):
    """The enrollment row's freshness tuple of a verifier's freshness."""
    return (fresh.boot_id, fresh.sequence, fresh.seen,
            int(round(fresh.nonce_at * 1000)))


class EnrollmentCache:
    """Enrollment records by host, read through ``database``."""

    def __init__(self, database):
        #: The monitor's :class:`~.database.Database`.
        self.database = database
        #: Enrolled hosts only: host -> :class:`~sod_nova.trust.verify.Enrollment`.
        self.records = {}
        #: host -> (outcome, monitor time) of the host row last written.
        self.written = {}

    def get(self, host, now):
        """``host``'s record (cached, else read), or None if not enrolled.
        A TPM host awaiting activation is read again: any member of the
        group may have sent it a credential or activated its AK."""
        record = self.records.get(host)
        if record is not None and not tpm_enrollment.awaiting(record):
            return record
        return self.reload(host, now)

    def cached(self, host):
        return self.records.get(host)

    def forget(self, host):
        self.records.pop(host, None)
        self.written.pop(host, None)

    def clear(self):
        self.records.clear()
        self.written.clear()

    def refresh(self, hosts, now):
        """Bring the cached records of ``hosts`` up to the group's database
        in one read. In a group the members take turns on each host, so a
        member's cached freshness is usually a report behind: without this,
        each report would conflict at its write, and be read and verified
        again. A host whose key changed, or a TPM host that moved, is read
        again whole; a host no longer enrolled is forgotten."""
        hosts = [h for h in hosts if h in self.records]
        if not hosts:
            return
        rows = self.database.call(db_enrollment.freshness_many, hosts)
        for host in hosts:
            record = self.records[host]
            row = rows.get(host)
            if row is None:
                self.forget(host)
            elif db_tuple(record.freshness) == row[1]:
                continue
            elif row[0] != record.key_text or record.tpm_ek is not None:
                self.reload(host, now)
            else:
                record.freshness = from_db_tuple(row[1])

    def reload(self, host, now):
        """Read ``host``'s enrollment (and its TPM state) again; keeps the
        signatures the cached record remembers while the key stayed."""
        row = self.database.call(db_enrollment.get, host)
        if row is None or row.public_key is None:
            self.forget(host)
            return None
        record = verify.Enrollment(
            host=row.host, architecture=row.architecture,
            public_key=keys.load_public_key(row.public_key),
            key_text=row.public_key, freshness=freshness(row), reloaded=now)
        tpm_enrollment.load(record, row)
        if row.tpm_ek:
            tpm_enrollment.load_state(
                record, self.database.call(tpm_state.get, host))
        cached = self.records.get(host)
        if cached is not None and cached.key_text == row.public_key:
            record.accepted = cached.accepted
        self.records[host] = record
        return record
