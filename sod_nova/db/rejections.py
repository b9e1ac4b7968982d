"""Why the scheduler filter last passed no host for an instance.

The filter records its explanation (:mod:`sod_nova.scheduler.filters`,
``[sod_filter] record_rejections``) so that the API and ``sod-nova`` can tell
a customer why a VM did not boot; one row per instance, the latest reason.
"""

import dataclasses
import datetime

import sqlalchemy as sa

from sod_nova.db import api
from sod_nova.db import models
from sod_nova.db import values


@dataclasses.dataclass(frozen=True)
class RejectionRow:
    """Why the filter last passed no host for an instance, and when."""

    instance_uuid: str
    reason: str
    updated_at: datetime.datetime | None = None


def _row(model):
    return RejectionRow(model.instance_uuid, model.reason,
                        values.from_epoch(model.updated_at or model.created_at))


@values.retry_on_duplicate
@api.context_manager.writer
def record(context, instance_uuid, reason):
    """Keep why the filter passed no host for ``instance_uuid`` (the latest)."""
    values.check_name('instance_uuid', instance_uuid)
    session = context.session
    api.claim(context, models.Rejection,
              models.Rejection.instance_uuid == instance_uuid)
    model = session.scalars(sa.select(models.Rejection).filter_by(
        instance_uuid=instance_uuid)).first()
    if model is None:
        session.add(models.Rejection(instance_uuid=instance_uuid,
                                     reason=reason))
    else:
        model.reason = reason
        # Same reason twice would leave updated_at alone: say it's new.
        model.updated_at = values.now()


@api.context_manager.reader
def get(context, instance_uuid):
    """The latest :class:`RejectionRow` of ``instance_uuid``, or None."""
    model = context.session.scalars(sa.select(models.Rejection).filter_by(
        instance_uuid=instance_uuid)).first()
    return _row(model) if model is not None else None


@api.context_manager.reader
def get_all(context):
    """Every kept rejection, oldest first."""
    query = sa.select(models.Rejection).order_by(
        sa.func.coalesce(models.Rejection.updated_at,
                         models.Rejection.created_at),
        models.Rejection.id)
    return [_row(m) for m in context.session.scalars(query)]
