"""Host capability rows as the API shows them, freshness applied.

The stored state is the monitor's last verdict; what the scheduler filter
acts on also depends on the age of the evidence. Both are shown: ``state``
and ``reason`` as stored, ``usable`` and ``usable_reason`` as the filter
sees them now (the row's ``valid_until``, written by the monitor, against
:func:`sod_nova.db.api.now`).
"""

from sod_nova import compliance
from sod_nova.catalog import guest as guest_mod
from sod_nova.db import api as db_api
from sod_nova.policy import SecurityRequest


def _iso(when):
    return when.isoformat() if when is not None else None


def view(row, now):
    """``row`` (a :class:`~sod_nova.db.api.HostRow`) as a JSON object,
    usable or not at ``now``."""
    why = compliance.distrust(row, now)
    capabilities = SecurityRequest(row.capability_mask or 0)
    return {
        'name': row.host,
        'architecture': row.architecture,
        'state': row.state,
        'reason': row.reason,
        'usable': why is None,
        'usable_reason': why,
        'last_evidence_at': _iso(row.last_evidence_at),
        'valid_until': _iso(row.valid_until),
        'capabilities': capabilities.matrix(),
        'capabilities_text': capabilities.describe(),
        'monitor': row.monitor,
        # Counted by the trust monitor where it keeps them; None until then.
        'rejected_reports': getattr(row, 'rejected_reports', None),
        'updated_at': _iso(row.updated_at),
    }


def get_all(context):
    return db_api.host_get_all(context)


def get(context, name):
    return db_api.host_get(context, name)


def by_name(context):
    return {row.host: row for row in get_all(context)}


def server_types(context, catalog, names, request, guest=None):
    """``[{name, hosts, usable_hosts}]`` for the architectures ``names``:
    this cloud's hosts of each type, and those that can take ``request`` now
    for a guest with launch features ``guest`` (None: a guest launched for
    each row), by the compliance rule."""
    rule = compliance.Rule(catalog)
    now = db_api.now()
    declared, usable = {}, {}
    for row in get_all(context):
        arch = catalog.get(row.architecture)
        name = arch.name if arch is not None else row.architecture
        declared[name] = declared.get(name, 0) + 1
        features = guest
        if features is None:
            # A guest launched for the row, where Nova can launch one.
            features = (frozenset((arch.guest.feature,))
                        if arch is not None and arch.guest
                        and guest_mod.FEATURES[arch.guest.feature].expressible
                        else frozenset())
        if rule.passes(request.mask, row, features, now):
            usable[name] = usable.get(name, 0) + 1
    return [{'name': name, 'hosts': declared.get(name, 0),
             'usable_hosts': usable.get(name, 0)} for name in names]
