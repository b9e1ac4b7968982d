"""Key files an operator writes: read bounded, refused in one line.

A huge file, a device, a FIFO or a binary file stops the service with one
line naming the option and the file, never a hang or a traceback. Each
caller passes its own exception class, so the layers keep their own errors.
See doc/source/contributor/api-and-cli.rst.
"""

import os
import stat

#: Largest key file read, in bytes (a few keys while one is rotated).
MAX_BYTES = 16384
#: Largest secret key file read, in bytes.
SECRET_MAX_BYTES = 4096
#: Shortest secret key accepted, in bytes.
MIN_SECRET_BYTES = 32


def read_bytes(path, option, error, limit=MAX_BYTES):
    """The bytes of the regular file ``path`` that ``option`` (e.g.
    ``'[sod_audit] key_file'``) names, at most ``limit``; raises ``error``
    (an exception class) with one line saying what is wrong."""
    where = '%s %s' % (option, path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise error('%s cannot be read: %s'
                    % (where, exc.strerror or exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error('%s is not a regular file' % where)
        data = os.read(fd, limit + 1)
    except OSError as exc:
        raise error('%s cannot be read: %s'
                    % (where, exc.strerror or exc)) from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise error('%s is larger than %d bytes: not a key' % (where, limit))
    return data


def read_text(path, option, error, limit=MAX_BYTES):
    """The ASCII text of the key file ``path`` (see :func:`read_bytes`)."""
    try:
        return read_bytes(path, option, error, limit).decode('ascii')
    except UnicodeDecodeError:
        raise error('%s %s is not text' % (option, path)) from None


def read_secret(path, option, error, min_bytes=MIN_SECRET_BYTES):
    """The secret key in ``path``: hex text of at least ``min_bytes`` bytes
    (``openssl rand -hex 32``)."""
    data = read_bytes(path, option, error, SECRET_MAX_BYTES)
    try:
        key = bytes.fromhex(data.decode('ascii').strip())
    except (UnicodeDecodeError, ValueError):
        raise error('%s %s must hold hex digits (e.g. "openssl rand -hex 32")'
                    % (option, path)) from None
    if len(key) < min_bytes:
        raise error('%s %s holds %d bytes; at least %d are needed'
                    % (option, path, len(key), min_bytes))
    return key
