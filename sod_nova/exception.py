"""The one exception base of sod-nova.

As Nova's ``NovaException``: a subclass states ``msg_fmt`` once and is raised
with keyword values; every error root derives from :class:`SodNovaException`
beside the built-in class callers catch. Standard library only (details:
``doc/source/contributor/architecture-notes.rst``).
"""

import logging

LOG = logging.getLogger(__name__)


class SodNovaException(Exception):
    """A sod-nova error; ``str()`` is ``msg_fmt % kwargs`` or the message."""

    msg_fmt = 'An unknown exception occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A wrong field must not hide the error being raised.
                LOG.exception('%(cls)s: message %(fmt)r does not take %(kwargs)r',
                              {'cls': type(self).__name__, 'fmt': self.msg_fmt,
                               'kwargs': kwargs})
                message = self.msg_fmt
        super().__init__(message)
