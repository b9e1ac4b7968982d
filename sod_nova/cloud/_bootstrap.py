"""Fix Nova's concurrency mode before Nova's in-process fixtures are imported.

Nova 34 runs either on native threads or on eventlet, and the choice is made
once per process, at import: ``nova/tests/functional/__init__.py`` (like
``nova/cmd/__init__.py``) calls ``nova.monkey_patch.patch()``, which reads the
environment variable ``OS_NOVA_DISABLE_EVENTLET_PATCHING``:

* ``true``/``1``/``yes``: native threading. Nova then *poisons* eventlet (any
  later ``import eventlet`` fails) and refuses with ``RuntimeError`` if eventlet
  is already in ``sys.modules``.
* anything else, or unset: ``eventlet.monkey_patch()`` of the whole process.

The embedded cloud defaults to native threading: it is where Nova is going
(eventlet is deprecated), it needs no monkey patching of a process that has
already imported half the world (pytest, a CLI), and sod-nova's own services
use real threads (``executor='threading'``). An explicit value of the variable
set by the caller wins, and a process that eventlet has already monkey patched
stays on eventlet (Nova's fixtures support both).

Import order matters, which is why :mod:`sod_nova.cloud.nova` runs this
before its other imports (and ``tests/functional/conftest.py`` before any test
module):

* ``futurist`` (and so ``oslo.messaging``) *imports* eventlet without patching
  anything. Nova's poison check would then refuse to start although nothing is
  patched, so the already loaded eventlet modules are hidden from
  ``sys.modules`` during Nova's check and put back afterwards; only new
  ``import eventlet...`` statements fail from then on, which these libraries
  tolerate.
* ``oslo.messaging`` (through ``oslo_service.service``) also *selects*
  oslo.service's backend at import - eventlet, when nobody chose - and binds its
  classes into module globals. That cannot be undone, so threading mode is then
  impossible: :func:`select_concurrency_mode` raises a ``RuntimeError`` saying
  to import ``sod_nova.cloud.nova`` before oslo.messaging/oslo.service (or to
  ask for eventlet mode with ``OS_NOVA_DISABLE_EVENTLET_PATCHING=false``).
"""

import os
import sys

ENV_VAR = 'OS_NOVA_DISABLE_EVENTLET_PATCHING'
_TRUE = ('1', 'true', 'yes')


def _eventlet_patched():
    if 'eventlet' not in sys.modules:
        return False
    patcher = sys.modules.get('eventlet.patcher')
    return bool(patcher and patcher.is_monkey_patched('thread'))


def _check_service_backend_free():
    backend = sys.modules.get('oslo_service.backend')
    selected = getattr(backend, '_cached_backend_type', None)
    if selected is not None and selected.value != 'threading':
        raise RuntimeError(
            'oslo.service already runs on its %r backend (it is chosen when '
            'oslo.messaging or oslo.service is first imported), so Nova cannot '
            'run on native threads: import sod_nova.cloud.nova before them, or set '
            '%s=false for eventlet mode' % (selected.value, ENV_VAR))


def select_concurrency_mode():
    """Choose the mode (threading unless told otherwise) and let Nova apply it.

    Idempotent: once ``nova.tests.functional`` is imported, the mode is fixed
    for the process and this returns at once.

    :returns: ``'threading'`` or ``'eventlet'``, the mode the process runs.
    :raises RuntimeError: threading mode asked for, but oslo.service already
        runs on eventlet (see the module docstring).
    """
    from nova import monkey_patch

    if 'nova.tests.functional' not in sys.modules:
        os.environ.setdefault(ENV_VAR, 'false' if _eventlet_patched() else 'true')
        hidden = {}
        if os.environ[ENV_VAR].lower() in _TRUE:
            _check_service_backend_free()
            if not _eventlet_patched():  # else let Nova refuse, rightly
                hidden = {name: module for name, module in sys.modules.items()
                          if name == 'eventlet' or name.startswith('eventlet.')}
            for name in hidden:
                del sys.modules[name]
        try:
            import nova.tests.functional  # noqa: F401
            if hidden:
                # It calls monkey_patch.patch() too, and Nova's fixtures import
                # it (nova.tests.fixtures.policy): check while eventlet is hidden.
                import nova.tests.unit  # noqa: F401
        finally:
            sys.modules.update(hidden)
    return 'eventlet' if monkey_patch.is_patched() else 'threading'
