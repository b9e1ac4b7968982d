"""A VM as the migration manager sees it, and the request it makes.

Nova's API is the source of truth for where a VM is and what it asks for.
:class:`ServerView` keeps the few fields the manager needs, copied out of an
openstacksdk ``Server`` so that the decision code is plain data in, plain
data out (and unit-testable without a cloud).

The effective request is the union (most restrictive) of the ``sod:`` keys of
the flavor's extra specs (the operator's floor), of the image's properties
(when read, see ``[sod_relocation] read_image_properties``) and of the instance
metadata (the customer's choice, paper §III-B). Scheduler hints are not
visible through the API after boot; Nova's scheduler still applies them,
with the rest of the RequestSpec saved at boot, to every migration.
"""

import dataclasses

from oslo_log import log as logging
from oslo_utils import strutils

from sod_nova.catalog import request_for
from sod_nova.policy import PolicyError
from sod_nova.policy import parse
from sod_nova.policy.request import EMPTY

LOG = logging.getLogger(__name__)

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
            ram_mb=int(ram or 0))

    @property
    def busy(self):
        """Nova is doing something to the VM (migrating, rebooting...)."""
        return self.task_state is not None


@dataclasses.dataclass(frozen=True)
class EffectiveRequest:
    """What a VM asks for, and what went wrong reading it."""

    request: object = EMPTY
    moving_target: int | None = None
    errors: tuple = ()


def _source_items(server):
    """``(source name, mapping)``: operator floor first, customer last."""
    return (('flavor', server.flavor_extra_specs),
            ('image', server.image_properties),
            ('metadata', server.metadata))


def effective_request(catalog, server):
    """The union of the VM's requests, with per-source parse errors.

    A malformed source (customers can write any metadata; Nova does not
    validate it) is left out and named in ``errors``; the other sources
    still count, so the operator's floor is never dropped.
    """
    request = EMPTY
    periods = []
    errors = []
    for source, mapping in _source_items(server):
        try:
            request |= request_for(catalog, mapping)
            period = parse.moving_target(mapping)
        except PolicyError as exc:
            errors.append('%s %s' % (source, exc))
            continue
        if period:
            periods.append(period)
    return EffectiveRequest(request, min(periods) if periods else None,
                            tuple(errors))


def needs_cold_migration(server):
    """SEV/TDX guests (memory encryption) cannot be live-migrated."""
    return (strutils.bool_from_string(
                server.flavor_extra_specs.get('hw:mem_encryption', False))
            or strutils.bool_from_string(
                server.image_properties.get('hw_mem_encryption', False)))
