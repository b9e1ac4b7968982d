"""Fix Nova's concurrency mode before Nova's in-process fixtures are imported.

Nova 34 chooses native threads or eventlet once per process, at import
(``OS_NOVA_DISABLE_EVENTLET_PATCHING``); the embedded cloud defaults to
threads. Import order matters: see ``doc/source/contributor/simulator.rst``.
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
