"""Measured boot: event logs, SHA-256 PCR extends, golden reference values.

Replaying a host's event log (``PCR = SHA256(PCR || digest)``) must give the
PCR values it quotes; comparing those with reference values says whether it
booted what the operator expects. The simulated backends boot a golden log
per architecture, so the default reference values need no operator input.
"""

import dataclasses
import hashlib

PCR_SIZE = 32
ZERO_PCR = b'\x00' * PCR_SIZE

#: The components a simulated host measures at boot, in order: (PCR, name).
GOLDEN_COMPONENTS = (
    (0, 'firmware'),
    (0, 'security-monitor'),
    (4, 'bootloader'),
    (4, 'kernel'),
    (9, 'initrd'),
)


@dataclasses.dataclass(frozen=True)
class Event:
    """One measured-boot event."""

    pcr: int
    digest: str
    name: str

    def to_dict(self):
        return {'pcr': self.pcr, 'digest': self.digest, 'name': self.name}


def component_digest(architecture, name):
    """The SHA-256 of a simulated component image of ``architecture``."""
    data = ('sod-nova simulated %s %s' % (architecture.lower(), name)).encode()
    return hashlib.sha256(data).hexdigest()


def golden_event_log(architecture):
    """The measured-boot log of a clean simulated host of ``architecture``."""
    return [Event(pcr, component_digest(architecture, name), name)
            for pcr, name in GOLDEN_COMPONENTS]


def extend(pcr_value, digest_hex):
    """``SHA256(pcr_value || digest)`` as the TPM computes it."""
    return hashlib.sha256(pcr_value + bytes.fromhex(digest_hex)).digest()


def replay(events):
    """``{pcr index: hex value}`` after extending every event in order."""
    pcrs = {}
    for event in events:
        pcrs[event.pcr] = extend(pcrs.get(event.pcr, ZERO_PCR), event.digest)
    return {index: value.hex() for index, value in pcrs.items()}


def unexpected_events(events, pcr, reference_hex):
    """The names of ``pcr``'s events logged after it reached
    ``reference_hex``, or None when no prefix of the log reaches it.

    Names what was measured on top of a good state (a module loaded after a
    clean boot) rather than listing the whole log. A PCR the reference does
    not list (None) is expected untouched: all its events are unexpected.
    """
    if reference_hex is None:
        reference_hex = ZERO_PCR.hex()
    value = ZERO_PCR
    names = [e for e in events if e.pcr == pcr]
    for i, event in enumerate([None, *names]):
        if event is not None:
            value = extend(value, event.digest)
        if value.hex() == reference_hex:
            return [e.name for e in names[i:]] or None
    return None


def reference_pcrs(architecture):
    """The golden PCR values of ``architecture`` (the default reference)."""
    return replay(golden_event_log(architecture))
