"""The hash chain over the migration manager's decisions.

Each entry (trigger, VM, from, to, reason, outcome, timings) is stored as
canonical JSON together with ``hash = sha256(prev_hash "\\n" entry)``, the
first entry chaining from :data:`GENESIS`. Changing, inserting or removing
an entry in the middle breaks every later link; :func:`verify` names the
first broken one. Truncating the tail cannot be seen from the chain alone:
keep the head hash that ``sod-nova audit verify`` prints somewhere else
(a ticket, a log shipped off the host) to detect that too.
"""

import dataclasses
import hashlib
import json

GENESIS = '0' * 64


def canonical(entry):
    """``entry`` (a dict of JSON values) as one canonical JSON string."""
    return json.dumps(entry, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False, allow_nan=False)


def link_hash(prev_hash, entry_json):
    """The hash of one link: sha256 over the previous hash and the entry."""
    return hashlib.sha256(
        ('%s\n%s' % (prev_hash, entry_json)).encode('utf-8')).hexdigest()


@dataclasses.dataclass(frozen=True)
class Break:
    """The first broken link: its sequence number and what is wrong."""

    seq: int
    reason: str

    def __str__(self):
        return 'entry %d: %s' % (self.seq, self.reason)


def verify(rows, prev_hash=GENESIS, first_seq=1):
    """None when the chain of ``rows`` is intact, else the first :class:`Break`.

    ``rows`` have ``seq``, ``entry`` (the stored JSON), ``prev_hash`` and
    ``hash``, in any order; sequence numbers must run 1, 2, 3, ... A part of
    the chain (one page of it) is verified from the hash of the entry before
    it: ``prev_hash`` of entry ``first_seq - 1``.
    """
    prev = prev_hash
    expected_seq = first_seq
    for row in sorted(rows, key=lambda r: r.seq):
        if row.seq != expected_seq:
            return Break(expected_seq, 'missing (next stored entry is %d)'
                         % row.seq)
        if row.prev_hash != prev:
            return Break(row.seq, 'prev_hash does not match the hash of '
                         'entry %d' % (row.seq - 1) if row.seq > 1 else
                         'prev_hash is not the genesis hash')
        try:
            entry_ok = canonical(json.loads(row.entry)) == row.entry
        except (TypeError, ValueError):
            entry_ok = False
        if not entry_ok:
            return Break(row.seq, 'entry is not canonical JSON')
        if link_hash(row.prev_hash, row.entry) != row.hash:
            return Break(row.seq, 'hash does not match its entry '
                         '(the entry was altered)')
        prev = row.hash
        expected_seq += 1
    return None
