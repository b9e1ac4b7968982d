"""How a VM moves: the first rung of its remediation ladder Nova allows.

The ladder is ``[sod_relocation] remediation`` or the VM's ``sod:remediation``;
only moves Nova accepts for the guest as launched count, so the manager never
issues a call Nova refuses. Which guests move how:
doc/source/contributor/migration-manager.rst.
"""

from sod_nova.catalog import guest as guest_mod
from sod_nova.relocation import compute as compute_mod

#: Nova statuses from which a live migration may start.
LIVE_FROM = ('ACTIVE', 'PAUSED')
#: Nova statuses from which a cold migration may start (the manager first
#: undoes its own pause or suspend).
COLD_FROM = ('ACTIVE', 'SHUTOFF')


def ladder_of(effective, conf):
    """The moves the VM accepts, in order."""
    if effective.remediation is not None:
        return effective.remediation
    return tuple(conf.sod_relocation.remediation)


def why_not(kind, server, parked_by_us=None):
    """Why Nova would refuse a ``kind`` move of ``server`` now; None if not."""
    specs, image = server.flavor_extra_specs, server.image_properties
    if kind == compute_mod.LIVE:
        if guest_mod.memory_encrypted(specs, image):
            return ('Nova cannot live-migrate a memory-encrypted guest '
                    '(hw:mem_encryption)')
        if not guest_mod.vtpm_live_migratable(specs, image):
            return ('Nova live-migrates a vTPM guest only with '
                    'hw:tpm_secret_security=host')
        if server.status not in LIVE_FROM:
            return 'Nova cannot live-migrate a %s VM' % server.status
        return None
    if server.status in COLD_FROM or (parked_by_us is not None
                                      and server.status == parked_by_us):
        return None
    return 'Nova cannot cold-migrate a %s VM' % server.status


def choose(server, effective, conf, parked_by_us=None, not_live=False):
    """``(kind, None)``: the first move of the VM's ladder Nova allows; or
    ``(None, why)`` when none is (the VM then gets the no-host action).

    ``parked_by_us`` is the status the manager's own no-host action left the
    VM in (it undoes it before a cold move); ``not_live``: Nova already
    refused to move this guest live.
    """
    ladder = ladder_of(effective, conf)
    refusals = []
    for kind in ladder:
        why = why_not(kind, server, parked_by_us)
        if why is None and not_live and kind == compute_mod.LIVE:
            why = 'Nova refused to live-migrate this guest'
        if why is None:
            return kind, None
        refusals.append('%s: %s' % (kind, why))
    if not ladder:
        return None, 'its remediation ladder allows no move'
    return None, 'no move of its ladder (%s) is possible: %s' % (
        ', '.join(ladder), '; '.join(refusals))


def park_action(server, action):
    """The no-host action Nova allows for the guest: a memory-encrypted
    guest cannot be suspended (Nova answers 409), so it is paused instead."""
    if action == 'suspend' and guest_mod.memory_encrypted(
            server.flavor_extra_specs, server.image_properties):
        return 'pause'
    return action
