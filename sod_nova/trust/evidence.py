"""The evidence format, version 1: what an agent signs and the monitor reads.

An envelope carries the canonical JSON document and its Ed25519 signature
over the exact bytes sent. Parsing checks every field and bounds the input;
nothing a sender controls makes it raise anything but :class:`EvidenceError`.
The fields and limits: ``doc/source/contributor/architecture-notes.rst``.
"""

import base64
import binascii
import dataclasses
import json
import math
import re

from sod_nova import exception
from sod_nova import hostname
from sod_nova.trust import keys
from sod_nova.trust import measurements

VERSION = 1
MAX_PCR = 23
_HEX64 = re.compile(r'^[0-9a-f]{64}\Z')
_NAME = re.compile(r'^%s\Z' % hostname.PATTERN)
_PCR_INDEX = re.compile(r'^(?:[0-9]|1[0-9]|2[0-3])\Z')
#: Largest integer a document may carry (sequence, counters): 63 bits.
MAX_INT = 2 ** 63 - 1
#: Longest run of digits an integer may have (MAX_INT has 19).
_MAX_DIGITS = 19
#: Deepest nesting of a valid document: object > event_log > event.
MAX_DEPTH = 3
#: Fields only some backends send; their content is checked by the module
#: that verifies them.
OPTIONAL = ('tpm', 'platform')


class EvidenceError(exception.SodNovaException, ValueError):
    """Evidence that cannot be accepted; ``str()`` is the reason."""


@dataclasses.dataclass(frozen=True)
class Evidence:
    host: str
    architecture: str
    boot_id: str
    sequence: int
    nonce: object
    timestamp: float
    event_log: tuple
    pcrs: dict
    runtime: dict
    tpm: dict = None
    platform: dict = None

    def to_document(self):
        doc = {
            'version': VERSION,
            'host': self.host,
            'architecture': self.architecture,
            'boot_id': self.boot_id,
            'sequence': self.sequence,
            'nonce': self.nonce,
            'timestamp': self.timestamp,
            'event_log': [e.to_dict() for e in self.event_log],
            'pcrs': {str(i): v for i, v in self.pcrs.items()},
            'runtime': dict(self.runtime),
        }
        for field in OPTIONAL:
            if getattr(self, field) is not None:
                doc[field] = getattr(self, field)
        return doc


def canonical(document):
    """The canonical JSON text of ``document``."""
    return json.dumps(document, sort_keys=True, separators=(',', ':'),
                      ensure_ascii=True, allow_nan=False)


def sign(evidence, private_key):
    """The envelope carrying ``evidence`` signed with ``private_key``."""
    text = canonical(evidence.to_document())
    signature = private_key.sign(text.encode('ascii'))
    return {'host': evidence.host, 'evidence': text,
            'signature': base64.b64encode(signature).decode('ascii')}


def open_envelope(envelope, max_bytes):
    """``(host, evidence bytes, signature bytes)`` after shape and size checks.

    Raises :class:`EvidenceError`; its ``host`` attribute is the claimed host
    when the envelope names one, so the rejection can be attributed.
    """
    if not isinstance(envelope, dict):
        raise EvidenceError('malformed report: not an object')
    host = envelope.get('host')
    if not hostname.is_valid(host):
        raise EvidenceError('malformed report: no valid host name')
    text = envelope.get('evidence')
    signature = envelope.get('signature')
    if not isinstance(text, str) or not isinstance(signature, str):
        raise _for(host, 'malformed report: evidence and signature must be strings')
    if len(text) > max_bytes:
        raise _for(host, 'oversized evidence: %d bytes (limit %d)'
                   % (len(text), max_bytes))
    try:
        data = text.encode('ascii')
        sig = base64.b64decode(signature, validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise _for(host, 'malformed report: evidence not ASCII or signature '
                         'not base64') from None
    return host, data, sig


def _for(host, reason):
    exc = EvidenceError(reason)
    exc.host = host
    return exc


def check_signature(public_key, data, signature):
    if not keys.verify(public_key, signature, data):
        raise EvidenceError('signature does not verify with the enrolled key')


def parse(data):
    """The :class:`Evidence` in canonical-JSON ``data`` (bytes)."""
    doc = _load(data)
    if not isinstance(doc, dict):
        raise EvidenceError('malformed evidence: not an object')
    if doc.get('version') != VERSION:
        raise EvidenceError('unsupported evidence version %r'
                            % (doc.get('version'),))
    expected = {'version', 'host', 'architecture', 'boot_id', 'sequence',
                'nonce', 'timestamp', 'event_log', 'pcrs', 'runtime'}
    if set(doc) - set(OPTIONAL) != expected:
        raise EvidenceError('malformed evidence: fields %s' % ', '.join(
            sorted((set(doc) - set(OPTIONAL)) ^ expected)))
    for field in OPTIONAL:
        if not isinstance(doc.get(field, {}), dict):
            raise EvidenceError('malformed evidence: %s must be an object' % field)
    for field in ('host', 'architecture', 'boot_id'):
        if not isinstance(doc[field], str) or not _NAME.match(doc[field]):
            raise EvidenceError('malformed evidence: bad %s' % field)
    if not _is_int(doc['sequence']) or not 1 <= doc['sequence'] <= MAX_INT:
        raise EvidenceError('malformed evidence: sequence must be an integer '
                            'from 1 to 2**63-1')
    if doc['nonce'] is not None and not (
            isinstance(doc['nonce'], str) and _HEX64.match(doc['nonce'])):
        raise EvidenceError('malformed evidence: nonce must be 64 hex digits')
    if not isinstance(doc['timestamp'], (int, float)) or isinstance(
            doc['timestamp'], bool) or not math.isfinite(doc['timestamp']):
        raise EvidenceError('malformed evidence: timestamp must be a number')
    return Evidence(
        host=doc['host'], architecture=doc['architecture'],
        boot_id=doc['boot_id'], sequence=doc['sequence'], nonce=doc['nonce'],
        timestamp=float(doc['timestamp']),
        event_log=_event_log(doc['event_log']), pcrs=_pcrs(doc['pcrs']),
        runtime=_runtime(doc['runtime']), tpm=doc.get('tpm'),
        platform=doc.get('platform'))


#: What follows each key peek looks for, matched where the key ends.
_PEEK = ((b'"boot_id":"', re.compile(rb'([A-Za-z0-9_.:-]{1,255})"')),
         (b'"sequence":', re.compile(rb'([1-9][0-9]{0,18})[,}]')),
         (b'"nonce":"', re.compile(rb'([0-9a-f]{64})"')))


def peek(data):
    """``(boot_id, sequence, nonce)`` as canonical JSON ``data`` (bytes)
    shows them, without parsing it, or None when one is not found.

    Only for refusing stale reports cheaply: unsigned text may say anything,
    so what peek finds is never trusted, only used to refuse; a report that
    looks fresh is parsed and checked in full. Each key is found by a
    substring search and its value matched where the key ends (a regular
    expression searching the whole report for each costs several times
    more, on the path every report takes).
    """
    found = []
    for key, value in _PEEK:
        at = data.find(key)
        match = value.match(data, at + len(key)) if at >= 0 else None
        if match is None:
            return None
        found.append(match.group(1))
    boot, sequence, nonce = found
    return boot.decode(), int(sequence), nonce.decode()


def _load(data):
    """The JSON value in ``data``, bounded in nesting and number size.

    The parser refuses nesting deeper than the interpreter's recursion
    limit (a RecursionError, caught here); anything nested deeper than
    :data:`MAX_DEPTH` but less than that fails the schema checks, which
    accept only scalars below the event list.
    """
    try:
        return json.loads(data, parse_int=_parse_int,
                          parse_constant=_no_constant)
    except EvidenceError:
        raise
    except RecursionError:
        raise EvidenceError('malformed evidence: nested too deep') from None
    except ValueError:
        raise EvidenceError('malformed evidence: not JSON') from None


def _parse_int(text):
    if len(text.lstrip('-')) > _MAX_DIGITS:
        raise EvidenceError('malformed evidence: integer of %d digits '
                            '(at most 63 bits)' % len(text.lstrip('-')))
    return int(text)


def _no_constant(name):
    raise EvidenceError('malformed evidence: %s is not a number' % name)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _event_log(value):
    if not isinstance(value, list):
        raise EvidenceError('malformed evidence: event_log must be a list')
    events = []
    for i, item in enumerate(value):
        if not (isinstance(item, dict) and set(item) == {'pcr', 'digest', 'name'}
                and _is_int(item['pcr']) and 0 <= item['pcr'] <= MAX_PCR
                and isinstance(item['digest'], str) and _HEX64.match(item['digest'])
                and isinstance(item['name'], str) and _NAME.match(item['name'])):
            raise EvidenceError('malformed evidence: event_log[%d]' % i)
        events.append(measurements.Event(item['pcr'], item['digest'], item['name']))
    return tuple(events)


def _pcrs(value):
    if not isinstance(value, dict):
        raise EvidenceError('malformed evidence: pcrs must be an object')
    pcrs = {}
    for key, digest in value.items():
        if not (_PCR_INDEX.match(key) and isinstance(digest, str)
                and _HEX64.match(digest)):
            raise EvidenceError('malformed evidence: pcrs[%s]' % ascii(key[:8]))
        pcrs[int(key)] = digest
    return pcrs


def _runtime(value):
    if not isinstance(value, dict):
        raise EvidenceError('malformed evidence: runtime must be an object')
    for key, count in value.items():
        if not (_NAME.match(key) and _is_int(count) and 0 <= count <= MAX_INT):
            raise EvidenceError('malformed evidence: runtime[%s]'
                                % ascii(key[:40]))
    return dict(value)
