"""Process-wide Nova state that nova.test.TestCase normally manages.

Nova keeps caches and singletons in module globals; its ``TestCase.setUp``
resets them before every test. The embedded cloud resets them when it starts
and again when it stops, so that a second cloud in the same process starts
from a clean slate.
"""

import fixtures
from nova import context as nova_context
from nova import objects
from nova import quota
from nova.api.openstack import wsgi_app
from nova.compute import api as compute_api
from nova.compute import rpcapi as compute_rpcapi
import nova.crypto
import nova.limit.utils
from nova.objects import base as objects_base
from nova.pci import request as pci_request
from nova.scheduler import utils as scheduler_utils
from nova.scheduler.client import report
from nova.tests import fixtures as nova_fixtures
from nova.virt import images
from nova.virt.libvirt import driver as libvirt_driver

from sod_nova.cloud import _servers


class TestCaseShim:
    """The part of a TestCase that Nova's Glance/Neutron/Cinder/CastAsCall
    fixtures use (they take the test case as an argument)."""

    def __init__(self, owner, name):
        self._owner = owner
        self._name = name

    def id(self):
        return self._name

    def useFixture(self, fixture):
        return self._owner.useFixture(fixture)

    def addCleanup(self, function, *args, **kwargs):
        self._owner.addCleanup(function, *args, **kwargs)

    def stub_out(self, old, new):
        self._owner.useFixture(fixtures.MonkeyPatch(old, new))

    def flags(self, **kwargs):
        group = kwargs.pop('group', None)
        self._owner.useFixture(nova_fixtures.ConfPatcher(group=group, **kwargs))

    def fail(self, message):
        raise _servers.EmbeddedNovaTimeout(message)


class ObjectRegistry(fixtures.Fixture):
    """Restores Nova's object registry afterwards (as nova.test.TestCase)."""

    def _setUp(self):
        objects_base.NovaObject.indirection_api = None
        registry = objects_base.NovaObjectRegistry._registry
        saved = dict(registry._obj_classes)
        self.addCleanup(setattr, registry, '_obj_classes', saved)


def reset_nova_globals():
    """Reset the module-level caches that nova.test.TestCase.setUp resets."""
    pci_request.get_alias_from_config.cache_clear()
    libvirt_driver.LibvirtDriver._get_pci_passthrough_devices.cache_clear()
    objects.Service.clear_min_version_cache()
    compute_api.CELLS = []
    nova_context.reset_globals()
    images.QEMU_VERSION = None
    compute_rpcapi.reset_globals()
    quota.UID_QFD_POPULATED_CACHE_BY_PROJECT = set()
    quota.UID_QFD_POPULATED_CACHE_ALL = False
    wsgi_app.init_global_data.reset()
    wsgi_app.init_application.reset()
    report.PLACEMENTCLIENT = None
    scheduler_utils.reset_globals()
    nova.crypto._KEYMGR = None
    nova.limit.utils.IDENTITY_CLIENT = None
