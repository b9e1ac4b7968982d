"""Repeated ``KEY=VALUE`` command-line arguments, for both console scripts.

``sod-nova request check`` and ``openstack sod request check`` take a
flavor's extra specs and an image's properties so; each turns the
``ValueError`` into its own error (exit 2, or osc-lib's CommandError).
"""

EXAMPLES = {'--extra-spec': 'hw:mem_encryption=true',
            '--image-property': 'hw_mem_encryption=true'}


def parse(pairs, option, form='KEY=VALUE'):
    """``{key: value}`` of ``pairs`` given with ``option`` (None if none).

    Raises ValueError for an argument that is not ``form`` and for a key
    given twice with different values.
    """
    if pairs is None:
        return None
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        key = key.strip()
        if not sep or not key:
            raise ValueError('%s %r: give %s, e.g. %s' % (
                option, pair, form, EXAMPLES.get(option, 'key=value')))
        if key in found and found[key] != value:
            raise ValueError('%s %s is given twice (%r and %r)' % (
                option, key, found[key], value))
        found[key] = value
    return found
