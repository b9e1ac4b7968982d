"""A VM as the migration manager sees it, and the request it makes.

:class:`ServerView` copies the few fields the manager needs out of Nova's
JSON or an openstacksdk ``Server`` (Nova's API is the source of truth), so
the decision code is plain data in, plain data out, unit-testable without a
cloud.
See doc/source/contributor/migration-manager.rst.
"""

import dataclasses

from sod_nova.compliance import request as compliance_request

#: Nova statuses from which a live migration may start.
LIVE_MIGRATABLE = ('ACTIVE', 'PAUSED')


@dataclasses.dataclass(frozen=True)
class ServerView:
    """The fields of one Nova server the manager decides on."""

    id: str
    name: str = ''
    host: str | None = None
    status: str = 'ACTIVE'
    task_state: str | None = None
    metadata: dict = dataclasses.field(default_factory=dict)
    flavor_extra_specs: dict = dataclasses.field(default_factory=dict)
    image_id: str | None = None
    image_properties: dict = dataclasses.field(default_factory=dict)
    ram_mb: int = 0
    #: The Nova project that owns it (per-project move bounds).
    project_id: str | None = None

    @classmethod
    def from_api(cls, body, image_properties=None):
        """From Nova's JSON of one server (microversion >= 2.47, as an
        admin: the host and the task state)."""
        flavor = body.get('flavor') or {}
        image = body.get('image') or {}    # '' when booted from a volume
        return cls(
            id=body['id'], name=body.get('name') or '',
            host=body.get('OS-EXT-SRV-ATTR:host'), status=body.get('status'),
            task_state=body.get('OS-EXT-STS:task_state'),
            metadata=dict(body.get('metadata') or {}),
            flavor_extra_specs=dict(_field(flavor, 'extra_specs') or {}),
            image_id=_field(image, 'id') or None,
            image_properties=dict(image_properties or {}),
            ram_mb=int(_field(flavor, 'ram') or 0),
            project_id=body.get('tenant_id'))

    @classmethod
    def from_sdk(cls, server, image_properties=None):
        """From an openstacksdk ``Server`` (a listing), by Nova's names."""
        return cls.from_api({
            'id': server.id, 'name': server.name,
            'OS-EXT-SRV-ATTR:host': server.compute_host,
            'status': server.status, 'OS-EXT-STS:task_state': server.task_state,
            'metadata': server.metadata, 'flavor': server.flavor,
            'image': server.image, 'tenant_id': server.project_id},
            image_properties)

    @property
    def busy(self):
        """Nova is doing something to the VM (migrating, rebooting...)."""
        return self.task_state is not None


def _field(value, name):
    """``name`` of a JSON object or of the sdk resource made of one."""
    return (value.get(name) if hasattr(value, 'get')
            else getattr(value, name, None))


def effective_request(catalog, server):
    """The VM's :class:`~sod_nova.compliance.request.Effective` request and
    launch features, from its flavor, image and metadata. A malformed
    source (customers can write any metadata; Nova does not validate it)
    holds the VM to the strictest request and is named in ``errors``."""
    return compliance_request.effective(
        catalog.packages, server.flavor_extra_specs, server.image_properties,
        server.metadata)
