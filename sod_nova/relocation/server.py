"""A VM as the migration manager sees it, and the request it makes.

:class:`ServerView` copies the few fields the manager needs out of an
openstacksdk ``Server`` (Nova's API is the source of truth), so the decision
code is plain data in, plain data out, unit-testable without a cloud.
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
    def from_sdk(cls, server, image_properties=None):
        """Copy an openstacksdk ``Server`` (microversion >= 2.47)."""
        flavor = server.flavor or {}
        extra_specs = (flavor.get('extra_specs') if hasattr(flavor, 'get')
                       else getattr(flavor, 'extra_specs', None)) or {}
        image = server.image or {}
        image_id = image.get('id') if hasattr(image, 'get') else None
        ram = (flavor.get('ram') if hasattr(flavor, 'get')
               else getattr(flavor, 'ram', None))
        return cls(
            id=server.id, name=server.name or '',
            host=server.compute_host, status=server.status,
            task_state=server.task_state,
            metadata=dict(server.metadata or {}),
            flavor_extra_specs=dict(extra_specs),
            image_id=image_id or None,
            image_properties=dict(image_properties or {}),
            ram_mb=int(ram or 0), project_id=server.project_id)

    @property
    def busy(self):
        """Nova is doing something to the VM (migrating, rebooting...)."""
        return self.task_state is not None


def effective_request(catalog, server):
    """The VM's :class:`~sod_nova.compliance.request.Effective` request and
    launch features, from its flavor, image and metadata. A malformed
    source (customers can write any metadata; Nova does not validate it)
    holds the VM to the strictest request and is named in ``errors``."""
    return compliance_request.effective(
        catalog.packages, server.flavor_extra_specs, server.image_properties,
        server.metadata)
