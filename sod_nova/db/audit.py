"""The migration manager's audit chain: keyed links, typed entries, checkpoints.

Each link's ``hash`` is an HMAC-SHA256 under the audit key (never in the
database), so an edit, a deletion or a swap breaks a MAC nobody without the
key can recompute; :func:`verify_chain` names the first broken link.
The design: ``doc/source/contributor/migration-manager.rst``.
"""

import dataclasses
import hashlib
import hmac
import json
import math
import os
import secrets

from sod_nova import keyfile
from sod_nova.conf import audit as audit_conf
from sod_nova.db import api as db_api

GENESIS = '0' * 64
#: ``alg`` of a keyed link; None is a legacy (unkeyed sha256) link.
HMAC_SHA256 = 'hmac-sha256'
MIN_KEY_BYTES = 32
#: A key file is a line of hex; anything longer is not one.
_LABEL = 'sod-nova-audit/1'
_CHECKPOINT_LABEL = 'sod-nova-audit-checkpoint/1'
#: The event of the keyed entry that anchors the legacy links before it.
ANCHORED = 'audit-anchored'

#: Latest time an entry may name: 9999-12-31T23:59:59Z.
MAX_TIME = 253402300799.0


class AuditKeyError(db_api.DatabaseConfigError):
    """``[sod_audit] key_file`` is missing or unusable (one-line message)."""


def load_key(path):
    """The audit key in ``path``: hex text of at least 32 bytes.

    Raises :class:`AuditKeyError` naming the file and the problem.
    """
    return keyfile.read_secret(path, '[sod_audit] key_file', AuditKeyError,
                               MIN_KEY_BYTES)


def write_key(path):
    """Write a new random audit key to ``path`` (mode 0600); the key."""
    key = secrets.token_bytes(MIN_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(key.hex() + '\n')
    return key


def key_from_conf(conf):
    """The key ``conf``'s ``[sod_audit] key_file`` names; raises
    :class:`AuditKeyError` when it names none (fail closed)."""
    audit_conf.register_opts(conf)
    path = conf.sod_audit.key_file
    if not path:
        raise AuditKeyError('[sod_audit] key_file is not set: the audit chain '
                            'needs a key the database does not hold (e.g. '
                            '"openssl rand -hex 32 > /etc/sod_nova/audit.key")')
    return load_key(path)


def canonical(entry):
    """``entry`` (a dict of JSON values) as one canonical JSON string."""
    return json.dumps(entry, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False, allow_nan=False)


def link_hash(prev_hash, entry_json):
    """A legacy link's hash: sha256 over the previous hash and the entry."""
    return hashlib.sha256(
        ('%s\n%s' % (prev_hash, entry_json)).encode('utf-8')).hexdigest()


def _hmac(key, fields):
    return hmac.new(key, canonical(fields).encode('utf-8'),
                    hashlib.sha256).hexdigest()


def entry_mac(key, seq, created_at, prev_hash, entry_json):
    """A keyed link's hash: HMAC-SHA256 over every stored field."""
    return _hmac(key, [_LABEL, seq, float(created_at), prev_hash, entry_json])


def checkpoint_mac(key, seq, head_hash, created_at):
    """The MAC of a checkpoint: link ``seq`` had ``head_hash`` then."""
    return _hmac(key, [_CHECKPOINT_LABEL, seq, head_hash, float(created_at)])


# Typed entries ---------------------------------------------------------------

def _text(value):
    return isinstance(value, str) and len(value) <= 65535


def _number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _time(value):
    return _number(value) and 0 <= value <= MAX_TIME


def _optional(check):
    return lambda value: value is None or check(value)


#: The fields readers interpret, and what each must be. Other fields may
#: hold any JSON value; readers never look at them.
FIELDS = {
    'event': lambda v: isinstance(v, str) and 0 < len(v) <= 64,
    'vm': _optional(lambda v: isinstance(v, str) and 0 < len(v) <= 255),
    'at': _time,
    'event_at': _optional(_time),
    'trigger': _optional(_text), 'cause': _optional(_text),
    'from': _optional(_text), 'to': _optional(_text),
    'reason': _optional(_text), 'outcome': _optional(_text),
    'action': _optional(_text), 'kind': _optional(_text),
    'compliant': _optional(lambda v: isinstance(v, bool)),
    'migration': _optional(lambda v: _text(v) or (
        isinstance(v, int) and not isinstance(v, bool))),
    'downtime_ms': _optional(_number),
    'legacy_entries': _optional(lambda v: isinstance(v, int)
                                and not isinstance(v, bool) and v >= 0),
    'legacy_head': _optional(lambda v: isinstance(v, str) and len(v) == 64),
}
REQUIRED = ('event', 'at')


def validate(entry):
    """None when ``entry`` is a well-typed audit entry, else why not."""
    if not isinstance(entry, dict):
        return 'entry is a JSON %s, not an object' % type(entry).__name__
    for name in REQUIRED:
        if name not in entry:
            return 'entry has no %r' % name
    for name, check in FIELDS.items():
        if name in entry and not check(entry[name]):
            return 'entry field %r has a wrong type or range' % name
    return None


def index_columns(entry):
    """The indexed copies of an entry's fields: ``{vm, event, at}``."""
    return {'vm': entry.get('vm'), 'event': entry['event'], 'at': entry['at']}


# Verification ----------------------------------------------------------------

UNANCHORED = ('an unkeyed link after the legacy links (as many as the keyed '
              'anchor counts)')

@dataclasses.dataclass(frozen=True)
class Break:
    """The first broken link: its sequence number and what is wrong."""

    seq: int
    reason: str

    def __str__(self):
        return 'entry %d: %s' % (self.seq, self.reason)


def row_problem(row, key):
    """None when ``row`` alone is sound (its entry typed and canonical, its
    indexed columns its entry's, its hash its own), else what is wrong.

    A legacy row's hash proves nothing without the chain; :func:`verify`
    decides whether one may stand where it is.
    """
    try:
        data = json.loads(row.entry)
        entry_ok = canonical(data) == row.entry
    except (TypeError, ValueError):
        entry_ok = False
    if not entry_ok:
        return 'entry is not canonical JSON'
    malformed = validate(data)
    if malformed:
        return malformed
    columns = index_columns(data)
    if any(getattr(row, name, value) != value
           for name, value in columns.items()):
        return 'its indexed columns (vm, event, at) disagree with the entry'
    if row.alg is None:
        if link_hash(row.prev_hash, row.entry) != row.hash:
            return 'hash does not match its entry (the entry was altered)'
        return None
    if row.alg != HMAC_SHA256:
        return 'unknown link algorithm %r' % row.alg[:32]
    if key is None:
        return 'no [sod_audit] key_file here: its MAC cannot be checked'
    if not hmac.compare_digest(
            entry_mac(key, row.seq, row.created_at, row.prev_hash, row.entry),
            row.hash):
        return ('MAC does not match (the entry, its time, its number or its '
                'link was altered)')
    return None


def anchor_entry(head, at):
    """The entry, written at ``at``, that anchors the legacy chain whose
    newest link is ``head``: its hash and number, under the anchor's MAC."""
    return {'event': ANCHORED, 'at': round(at, 6), 'legacy_head': head.hash,
            'legacy_entries': head.seq}


def anchored_legacy(first_keyed, key):
    """How many links, from the first, are legacy (unkeyed) ones: the
    count the anchor ``first_keyed`` (the first keyed link, or None) holds
    under its MAC. 0 unless it is a sound :data:`ANCHORED` entry naming
    the link before it: without the key nobody can make one, so marking
    keyed links as legacy never moves the boundary.
    """
    if first_keyed is None or first_keyed.alg is None or row_problem(
            first_keyed, key) is not None:
        return 0
    data = json.loads(first_keyed.entry)
    count = first_keyed.seq - 1
    if (data['event'] == ANCHORED and count > 0
            and data.get('legacy_entries') == count
            and data.get('legacy_head') == first_keyed.prev_hash):
        return count
    return 0


def legacy_links(first_keyed, key, head):
    """:func:`anchored_legacy` for a verifier that also checks the head
    (:func:`tail_break`): a chain with no keyed link yet (an upgraded one
    awaiting its anchor) has its links checked as legacy ones, and its head
    is reported not anchored."""
    if first_keyed is None:
        return head.seq if head is not None else 0
    return anchored_legacy(first_keyed, key)


def verify(rows, key, prev_hash=GENESIS, first_seq=1, legacy=0):
    """None when the links of ``rows`` hold, else the first :class:`Break`.

    ``rows`` have ``seq``, ``created_at``, ``entry`` (the stored JSON),
    ``prev_hash``, ``hash`` and ``alg``, in any order; sequence numbers must
    run on from ``first_seq``. A part of the chain (one page of it) is
    verified from the hash of the link before it (``prev_hash``). Links
    ``1..legacy`` may be unkeyed (:func:`legacy_links`); any other unkeyed
    link is a break. ``key`` is the audit key (None: every keyed link is
    unverified, a break).
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
        if row.alg is None and row.seq > legacy:
            return Break(row.seq, UNANCHORED)
        problem = row_problem(row, key)
        if problem:
            return Break(row.seq, problem)
        prev = row.hash
        expected_seq += 1
    return None


def checkpoint_break(point, row, key):
    """The :class:`Break` that checkpoint ``point`` shows, or None: its MAC
    must hold, and ``row`` (the link it names, None when gone) still have
    the hash it names."""
    if key is None or not hmac.compare_digest(
            checkpoint_mac(key, point.seq, point.hash, point.created_at),
            point.mac):
        return Break(point.seq, 'its checkpoint\'s MAC does not match')
    if row is None:
        return Break(point.seq, 'missing: a checkpoint names it, the chain '
                                'was cut below it')
    if row.hash != point.hash:
        return Break(point.seq, 'hash differs from its checkpoint')
    return None


NOT_ANCHORED = ('not anchored: no keyed entry follows the legacy ones (run '
                '"sod-nova audit verify --anchor")')


def tail_break(head, key, expect_head=None, expected=None):
    """The :class:`Break` the newest link ``head`` shows, or None.

    ``expect_head``, a hash the operator kept, must be the sound link
    ``expected`` (None when no link has it: the chain was cut below it);
    and the head must be keyed (legacy links only are not anchored:
    nothing keyed covers them; :data:`NOT_ANCHORED` is then the reason).
    """
    end = head.seq + 1 if head is not None else 1
    if expect_head is not None:
        if expected is None:
            return Break(end, 'the expected head %s is not in the chain (cut '
                              'or rewritten)' % expect_head)
        problem = row_problem(expected, key)
        if problem:
            return Break(expected.seq, problem)
    if head is not None and head.alg is None:
        return Break(end, NOT_ANCHORED)
    return None


def verify_chain(rows, key, checkpoints=(), expect_head=None):
    """The whole chain: :func:`verify` (legacy links as the anchor counts
    them), every checkpoint (:func:`checkpoint_break`) and the head
    (:func:`tail_break`)."""
    rows = sorted(rows, key=lambda r: r.seq)
    head = rows[-1] if rows else None
    first_keyed = next((r for r in rows if r.alg is not None), None)
    broken = verify(rows, key, legacy=legacy_links(first_keyed, key, head))
    if broken is not None:
        return broken
    by_seq = {r.seq: r for r in rows}
    for point in sorted(checkpoints, key=lambda c: c.seq):
        broken = checkpoint_break(point, by_seq.get(point.seq), key)
        if broken is not None:
            return broken
    expected = next((r for r in rows if r.hash == expect_head), None)
    return tail_break(head, key, expect_head, expected)
