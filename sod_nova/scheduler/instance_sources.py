"""Read a VM's metadata and system metadata where Nova keeps them right now.

The RequestSpec the scheduler gets has no instance metadata. While a server
is being built its instance lives only in the API database's BuildRequest;
afterwards (migrations, evacuate, unshelve) it lives in its cell's database.
"""

from nova import context as nova_context
from nova import exception
from nova import objects
from oslo_db import exception as db_exc

from sod_nova import exception as sod_exception


class SourcesUnavailable(sod_exception.SodNovaException):
    """The instance's metadata could not be read (the filter fails closed)."""


def _attr(instance, name):
    # A BuildRequest's instance is not in any database: never lazy-load.
    if instance.obj_attr_is_set(name):
        return dict(getattr(instance, name) or {})
    return {}


def metadata_of(instance_uuid, context=None):
    """``(metadata, system_metadata)`` of the instance ``instance_uuid``."""
    if not instance_uuid:
        raise SourcesUnavailable('the request spec names no instance')
    try:
        return _metadata_of(instance_uuid, context)
    except db_exc.DBError as exc:
        raise SourcesUnavailable('database error: %s' % exc) from None


def _metadata_of(instance_uuid, context):
    ctx = context or nova_context.get_admin_context()
    try:
        build_request = objects.BuildRequest.get_by_instance_uuid(
            ctx, instance_uuid)
    except exception.BuildRequestNotFound:
        pass
    else:
        instance = build_request.instance
        return _attr(instance, 'metadata'), _attr(instance, 'system_metadata')
    try:
        mapping = objects.InstanceMapping.get_by_instance_uuid(
            ctx, instance_uuid)
        if mapping.cell_mapping is None:
            raise SourcesUnavailable('instance %s is mapped to no cell yet'
                                     % instance_uuid)
        with nova_context.target_cell(ctx, mapping.cell_mapping) as cctx:
            instance = objects.Instance.get_by_uuid(
                cctx, instance_uuid,
                expected_attrs=['metadata', 'system_metadata'])
    except (exception.InstanceMappingNotFound,
            exception.InstanceNotFound) as exc:
        raise SourcesUnavailable(str(exc)) from None
    return _attr(instance, 'metadata'), _attr(instance, 'system_metadata')
