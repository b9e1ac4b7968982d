"""The one rule for a compute host name, wherever a name enters sod-nova.

The evidence format's rule (1-255 ASCII letters, digits and ``_ . : -``),
applied everywhere a name enters, so a host that can be declared can also be
attested. Standard library only (why:
``doc/source/contributor/architecture-notes.rst``).
"""

import re

from sod_nova import exception

MAX_LENGTH = 255
PATTERN = r'[A-Za-z0-9_.:-]{1,%d}' % MAX_LENGTH
_NAME = re.compile(r'^%s\Z' % PATTERN)


class InvalidHostName(exception.SodNovaException, ValueError):
    """A host name that breaks the rule; ``str()`` says how."""


def is_valid(name):
    """Whether ``name`` is a host name under the rule."""
    return isinstance(name, str) and _NAME.match(name) is not None


def check(name, what='host name'):
    """``name`` if it is a valid host name, else :class:`InvalidHostName`.

    The message names ``what`` and the first problem found, and never echoes
    more than 40 characters of the input (it may be 100,000 characters long
    or contain newlines).
    """
    if not isinstance(name, str):
        raise InvalidHostName('%s must be a string, not %s'
                              % (what, type(name).__name__))
    if not name:
        raise InvalidHostName('%s is empty' % what)
    if len(name) > MAX_LENGTH:
        raise InvalidHostName('%s is %d characters long (at most %d)'
                              % (what, len(name), MAX_LENGTH))
    bad = next((c for c in name if not _NAME.match(c)), None)
    if bad is not None:
        raise InvalidHostName(
            '%s %s has the character %s; allowed: ASCII letters, digits '
            'and _ . : -' % (what, _shown(name), ascii(bad)))
    return name


def _shown(name):
    text = name if len(name) <= 40 else name[:37] + '...'
    return ascii(text)
