"""The one code path to Nova: openstacksdk, for real clouds and tests alike.

:class:`NovaCompute` wraps a connection built from ``[nova]`` (:func:`connect`)
or from the embedded cloud's session (:func:`connect_session`): the manager
asks Nova's API, never libvirt, so Nova's scheduler (with the SoD filter)
picks every destination. Migration watermarks: see
doc/source/contributor/migration-manager.rst.
"""

import dataclasses

from keystoneauth1 import loading as ks_loading
from openstack import connection
from openstack import exceptions as sdk_exc
from oslo_log import log as logging

from sod_nova import exception
from sod_nova.catalog import guest
from sod_nova.relocation.server import ServerView

LOG = logging.getLogger(__name__)

LIVE = 'live'
COLD = 'cold'

#: The microversion the manager reads servers at: 2.47 embeds the flavor's
#: extra specs, all a :class:`ServerView` needs. The sdk's newest (2.100) also
#: makes Nova read each server's request spec and groups (2.71, 2.96, 2.100):
#: a third more of Nova's time on every look, the one before a migrate call
#: included.
READ_MICROVERSION = '2.47'

#: Migration statuses after which Nova does nothing more, per kind.
MIGRATION_DONE = {LIVE: ('completed',), COLD: ('confirmed', 'finished')}
MIGRATION_FAILED = ('error', 'failed', 'cancelled', 'reverted')


class NovaError(exception.SodNovaException):
    """Nova refused or failed a request; ``str()`` says which and why."""


class NoValidHost(NovaError):
    """Nova's scheduler found no host for a migration (the SoD filter, or
    capacity, left none); from 2.34 the API answers 400 synchronously."""


class NotSupportedForGuest(NovaError):
    """Nova refuses the operation for this guest as launched (a memory-
    encrypted or vTPM guest: ``OperationNotSupportedForMemEncryption`` /
    ``ForVTPM``, HTTP 409)."""


def connect(conf):
    """A :class:`NovaCompute` from the ``[nova]`` keystoneauth options."""
    auth = ks_loading.load_auth_from_conf_options(conf, 'nova')
    if auth is None:
        raise NovaError('set [nova] auth_type and its credentials (an admin '
                        'user: live migration and all_projects listing)')
    session = ks_loading.load_session_from_conf_options(conf, 'nova',
                                                        auth=auth)
    return connect_session(session, conf.nova.endpoint_override,
                           region_name=conf.nova.region_name,
                           interface=conf.nova.interface)


def connect_session(session, endpoint_override=None, region_name=None,
                    interface=None):
    """A :class:`NovaCompute` over a ready keystoneauth ``session``."""
    kwargs = {}
    if endpoint_override:
        kwargs['compute_endpoint_override'] = endpoint_override
    if region_name:
        kwargs['region_name'] = region_name
    if interface:
        kwargs['interface'] = interface
    return NovaCompute(connection.Connection(session=session, **kwargs))


class NovaCompute:
    """Admin operations on Nova servers, by VM id, in Nova's own words."""

    def __init__(self, conn, read_image_properties=False):
        self.conn = conn
        self.read_image_properties = read_image_properties
        self._image_cache = {}

    def _view(self, view):
        """``view`` with its image's properties, when the manager reads
        them (``[sod_relocation] read_image_properties``)."""
        if not self.read_image_properties:
            return view
        return dataclasses.replace(
            view, image_properties=self._image_properties(view))

    def _image_properties(self, server):
        image_id = server.image_id
        if not image_id:
            return {}
        if image_id not in self._image_cache:
            try:
                props = self.conn.image.get_image(image_id).properties or {}
            except sdk_exc.SDKException as exc:
                # Fail closed: an unreadable image asks for every cell.
                LOG.warning('image %(image)s of %(vm)s is unreadable, '
                            'counting it as asking for everything: %(exc)s',
                            {'image': image_id, 'vm': server.id, 'exc': exc})
                return {'sod:options': '1,2,3,5,6,7'}
            self._image_cache[image_id] = {
                k: v for k, v in props.items()
                if k.startswith('sod:') or k in guest.IMAGE_KEYS}
        return self._image_cache[image_id]

    def servers(self, host=None):
        """Every server (of ``host``) in every project, as ServerViews."""
        query = {'all_projects': True}
        if host is not None:
            query['compute_host'] = host
        try:
            return [self._view(ServerView.from_sdk(s))
                    for s in self.conn.compute.servers(
                        details=True, microversion=READ_MICROVERSION,
                        **query)]
        except sdk_exc.SDKException as exc:
            raise NovaError('listing servers failed: %s' % exc) from exc

    def server(self, vm):
        """The ServerView of ``vm``, or None when Nova no longer has it.

        Nova's JSON goes straight into the view: building the sdk's
        ``Server`` resource for it was a quarter of the manager's CPU for
        this read, the one right before each migrate call.
        """
        try:
            response = self.conn.compute.get(
                '/servers/%s' % vm, microversion=READ_MICROVERSION)
            sdk_exc.raise_from_response(response)
        except sdk_exc.NotFoundException:
            return None
        except sdk_exc.SDKException as exc:
            raise NovaError('reading server %s failed: %s' % (vm, exc)) from exc
        return self._view(ServerView.from_api(response.json()['server']))

    def migrations(self, vm):
        """Nova's migration records of ``vm``, oldest first."""
        try:
            found = list(self.conn.compute.migrations(instance_uuid=vm))
        except sdk_exc.SDKException as exc:
            raise NovaError('listing migrations of %s failed: %s'
                            % (vm, exc)) from exc
        return sorted(found, key=lambda m: int(m.id))

    def latest_migration_id(self, vm):
        """The id of ``vm``'s newest migration record, or 0."""
        found = self.migrations(vm)
        return int(found[-1].id) if found else 0

    def migration_after(self, vm, after_id):
        """The first migration of ``vm`` with an id above ``after_id``."""
        for migration in self.migrations(vm):
            if int(migration.id) > int(after_id):
                return migration
        return None

    def _act(self, what, vm, call, *args, **kwargs):
        try:
            call(vm, *args, **kwargs)
        except sdk_exc.SDKException as exc:
            text = str(exc)
            error = (NoValidHost if 'No valid host' in text
                     else NotSupportedForGuest
                     if 'not supported for mem encryption' in text
                     or 'not supported for vTPM' in text
                     else NovaError)
            raise error('%s of %s refused: %s' % (what, vm, exc)) from exc

    def live_migrate(self, vm, host=None):
        """Ask for a live migration; ``host`` None lets the scheduler choose.

        A named ``host`` is still checked by Nova's scheduler filters
        (microversion 2.30+, ``force`` off), ours included.
        """
        self._act('live migration', vm, self.conn.compute.live_migrate_server,
                  host=host, force=False, block_migration='auto')

    def abort_live_migration(self, vm, migration_id):
        """Ask Nova to abort a running live migration (it rolls it back)."""
        self._act('aborting migration %s' % migration_id, vm,
                  lambda server: self.conn.compute.abort_server_migration(
                      str(migration_id), server))

    def cold_migrate(self, vm, host=None):
        """Ask for a cold migration (for guests that cannot move live)."""
        self._act('cold migration', vm, self.conn.compute.migrate_server,
                  host=host)

    def confirm_resize(self, vm):
        self._act('confirming the migration', vm,
                  self.conn.compute.confirm_server_resize)

    def pause(self, vm):
        self._act('pause', vm, self.conn.compute.pause_server)

    def unpause(self, vm):
        self._act('unpause', vm, self.conn.compute.unpause_server)

    def suspend(self, vm):
        self._act('suspend', vm, self.conn.compute.suspend_server)

    def resume(self, vm):
        self._act('resume', vm, self.conn.compute.resume_server)

    def stop(self, vm):
        self._act('stop', vm, self.conn.compute.stop_server)

    def start(self, vm):
        self._act('start', vm, self.conn.compute.start_server)

    #: The no-host action and the call that undoes it.
    PARK = {'pause': ('pause', 'unpause', 'PAUSED'),
            'suspend': ('suspend', 'resume', 'SUSPENDED'),
            'stop': ('stop', 'start', 'SHUTOFF')}

    def park(self, vm, action):
        getattr(self, self.PARK[action][0])(vm)

    def unpark(self, vm, action):
        getattr(self, self.PARK[action][1])(vm)
