"""The one exception base of sod-nova.

As in Nova (``nova.exception.NovaException``), a subclass states its message
once, as ``msg_fmt`` with ``%(name)s`` fields, and is raised with the values
as keyword arguments: ``HostUnknown(host='cn1')``. A message given as the
first argument is used as it is, so an error whose text is composed where
it happens keeps it. The keyword arguments stay on the exception
(``kwargs``) for callers that translate it (an HTTP body, an exit code).

Every error root of the packages derives from :class:`SodNovaException`,
next to the built-in class callers already catch (``ValueError`` for bad
input, ``RuntimeError``, ``TimeoutError``): ``except SodNovaException``
catches every sod-nova error, ``except ValueError`` still catches a bad
request. Standard library only: the layer order puts this module below
``policy``.
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
