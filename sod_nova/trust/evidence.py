"""The evidence format, version 1: what an agent signs and the monitor reads.

An envelope carries the canonical JSON document and its Ed25519 signature
over the exact bytes sent. Parsing checks every field and bounds the input;
nothing a sender controls makes it raise anything but :class:`EvidenceError`.
The fields and limits: ``doc/source/contributor/architecture-notes.rst``.
"""

import base64
import binascii
import dataclasses
import hashlib
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


#: The fields that change from one report of a boot to the next, as a
#: :class:`Parser` finds them: the key as it precedes the value, the
#: value's form (a whole JSON token), and two stand-ins of that form.
_SLOTS = (
    (b'"nonce":"', re.compile(rb'[0-9a-f]{64}(?=")'), (b'f' * 64, b'e' * 64)),
    (b'"sequence":', re.compile(rb'[1-9][0-9]{0,18}(?=[,}])'), (b'7', b'8')),
    (b'"timestamp":', re.compile(
        rb'-?(?:0|[1-9][0-9]{0,18})(?:\.[0-9]{1,20})?(?:[eE][-+]?[0-9]{1,3})?'
        rb'(?=[,}])'), (b'0.5', b'0.25')),
)
#: Templates a :class:`Parser` keeps (about 2 kB each): one per host and
#: boot of those it hears from.
TEMPLATES_KEPT = 16384


class Parser:
    """:func:`parse` for the reports of many hosts, each of which sends the
    same document report after report but for its nonce, sequence and
    timestamp.

    A document is cut into its template (everything but those three
    values) and the values. The second time a template is seen, it is
    parsed with stand-in values too; if that changes exactly the three
    fields, the template is kept with its parsed, checked fields, and a
    later document of that template costs checking three values instead
    of a parse. Whatever a document holds, the result is
    :func:`parse`'s (anything unusual is parsed in full).
    """

    def __init__(self, kept=TEMPLATES_KEPT):
        self._kept = kept
        # digest of a template -> None (seen once), False (not usable) or
        # the Evidence parsed from it.
        self._templates = {}
        self._last = (None, None)        # (data, its cut and digest)

    def known(self, data):
        """:func:`parse`'s result for ``data`` if its template is known and
        its values valid, else None; never raises. For unsigned ``data``,
        as for :func:`peek`'s: only to refuse a report cheaply."""
        cut = self._cut(data)
        known = cut and self._templates.get(cut[2])
        return _filled(known, cut[1]) if known else None

    def parse(self, data):
        evidence = self.known(data)
        if evidence is not None:
            return evidence
        evidence = parse(data)           # raises for a malformed one
        cut = self._cut(data)
        templates = self._templates
        if cut is not None and templates.get(cut[2], 0) is None:
            templates[cut[2]] = _template(cut[0], cut[1], evidence)
        elif cut is not None and cut[2] not in templates:
            while len(templates) >= self._kept:
                del templates[next(iter(templates))]
            templates[cut[2]] = None     # seen once: checked if seen again
        return evidence

    def _cut(self, data):
        """``(pieces, values, template digest)`` of ``data`` or None; the
        last one is remembered (a report is cut once)."""
        if self._last[0] is not data:
            cut = _cut(data)
            if cut is not None:
                cut += (hashlib.sha256(b''.join(
                    b'%d:%s' % (len(p), p) for p in cut[0])).digest(),)
            self._last = (data, cut)
        return self._last[1]


def _cut(data):
    """``(pieces, values)``: ``data`` is the pieces with the values of
    :data:`_SLOTS` between them; None when one is not found."""
    pieces, values, start = [], [], 0
    for key, form, _stand_ins in _SLOTS:
        at = data.find(key, start)
        match = form.match(data, at + len(key)) if at >= 0 else None
        if match is None:
            return None
        pieces.append(data[start:match.start()])
        values.append(match.group())
        start = match.end()
    pieces.append(data[start:])
    return pieces, values


def _values(values):
    """``(nonce, sequence, timestamp)`` as :func:`parse` reads the slots'
    ``values``, or None when it would refuse them."""
    nonce, sequence, timestamp = values
    sequence = int(sequence)
    if sequence > MAX_INT:
        return None
    if timestamp.isdigit() or timestamp[1:].isdigit():     # an integer
        timestamp = float(int(timestamp))
    else:
        timestamp = float(timestamp)
        if not math.isfinite(timestamp):
            return None
    return nonce.decode('ascii'), sequence, timestamp


def _filled(template, values):
    read = _values(values)
    if read is None:
        return None
    nonce, sequence, timestamp = read
    t = template            # its own dicts, as parse() gives each report
    return Evidence(t.host, t.architecture, t.boot_id, sequence, nonce,
                    timestamp, t.event_log, dict(t.pcrs), dict(t.runtime))


def _template(pieces, values, evidence):
    """``evidence`` (parsed from the pieces and ``values``) if parsing the
    pieces with stand-in values changes exactly its nonce, sequence and
    timestamp, else False (also for one with the optional fields, whose
    TPM quote changes every report)."""
    if evidence.tpm is not None or evidence.platform is not None:
        return False
    stand_ins = [next(s for s in slot[2] if s != value)
                 for slot, value in zip(_SLOTS, values, strict=True)]
    data = pieces[0] + b''.join(
        s + p for s, p in zip(stand_ins, pieces[1:], strict=True))
    try:
        other = parse(data)
    except EvidenceError:
        return False
    read = _values(stand_ins)
    if read is None or dataclasses.replace(
            evidence, nonce=read[0], sequence=read[1],
            timestamp=read[2]) != other:
        return False
    return evidence


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
