"""A security choice (options, properties, package) as ``sod:`` keys."""

from sod_nova.policy import parse


def to_metadata(body):
    """The canonical ``sod:`` metadata of a validated security body.

    ``properties`` is written explicitly whenever options are (C,I when
    not given), so that a stored request never depends on a default.
    """
    values = {}
    if body.get('options'):
        values[parse.PREFIX + parse.OPTIONS] = ','.join(
            str(o) for o in sorted(body['options']))
        values[parse.PREFIX + parse.PROPERTIES] = ','.join(
            p for p in ('C', 'I') if p in body.get('properties', ['C', 'I']))
    elif body.get('properties'):
        values[parse.PREFIX + parse.PROPERTIES] = ','.join(
            p for p in ('C', 'I') if p in body['properties'])
    if body.get('package'):
        values[parse.PREFIX + parse.PACKAGE] = body['package']
    if body.get('moving_target'):
        values[parse.PREFIX + parse.MOVING_TARGET] = str(body['moving_target'])
    return values


#: Order in which no-longer-wanted keys are deleted: each deletion leaves
#: a request at least as strict as the final one (a missing properties key
#: means C,I; options, package and a moving target only add protection).
DELETE_ORDER = (parse.PROPERTIES, parse.PACKAGE, parse.MOVING_TARGET,
                parse.OPTIONS)


def plan(current, wanted):
    """``(set, delete)``: one merge of ``wanted`` first, then deletions of
    the old ``sod:`` keys ``wanted`` drops, in :data:`DELETE_ORDER` (keys
    sod-nova does not know go first: they never protected anything)."""
    old = {k for k in current if isinstance(k, str)
           and k.startswith(parse.PREFIX)}
    drop = old - set(wanted)
    rank = {parse.PREFIX + k: i for i, k in enumerate(DELETE_ORDER)}
    delete = sorted(drop, key=lambda k: (rank.get(k, -1), k))
    values = {k: v for k, v in wanted.items() if current.get(k) != v}
    return values, delete
