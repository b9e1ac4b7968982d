"""Host trust states, parked VMs and the relocation audit trail."""

from django.template.defaultfilters import title
from django.utils.translation import gettext_lazy as _
from horizon import tables


def utc(when):
    """``2026-11-27 03:58:02``: exact to the second, for evidence times."""
    return when.strftime('%Y-%m-%d %H:%M:%S') if when else '-'


class HostTrustTable(tables.DataTable):
    STATUS_CHOICES = (('trusted', True), ('untrusted', False),
                      ('unreachable', False))

    host = tables.Column('host', verbose_name=_("Host"))
    architecture = tables.Column('architecture', verbose_name=_("Architecture"))
    state = tables.Column('state', verbose_name=_("Trust State"), status=True,
                          status_choices=STATUS_CHOICES, filters=(title,))
    reason = tables.WrappingColumn('reason', verbose_name=_("Reason"))
    last_evidence_at = tables.Column('last_evidence_at', filters=(utc,),
                                     verbose_name=_("Last Evidence (UTC)"))
    monitor = tables.Column('monitor', verbose_name=_("Trust Monitor"))

    def get_object_id(self, datum):
        return datum.host

    class Meta:
        name = 'hosts'
        verbose_name = _("Host Trust States")
        status_columns = ('state',)


class ParkedTable(tables.DataTable):
    vm = tables.Column('vm', verbose_name=_("Instance ID"))
    name = tables.Column('name', verbose_name=_("Instance Name"))
    action = tables.Column('action', verbose_name=_("Held By"))
    since = tables.Column('since', filters=(utc,),
                          verbose_name=_("Since (UTC)"))
    reason = tables.WrappingColumn('reason', verbose_name=_("Why No Host"))

    def get_object_id(self, datum):
        return datum.vm

    class Meta:
        name = 'parked'
        verbose_name = _("Instances Paused for Lack of a Compliant Host")


class AuditTable(tables.DataTable):
    seq = tables.Column('seq', verbose_name=_("#"))
    time = tables.Column('time', verbose_name=_("Time (UTC)"), filters=(utc,))
    event = tables.Column('event', verbose_name=_("Event"))
    vm = tables.Column('vm', verbose_name=_("Instance ID"))
    trigger = tables.Column('trigger', verbose_name=_("Trigger"))
    source = tables.Column('source', verbose_name=_("From"))
    destination = tables.Column('destination', verbose_name=_("To"))
    reason = tables.WrappingColumn('reason', verbose_name=_("Reason"))

    def get_object_id(self, datum):
        return str(datum['seq'])

    class Meta:
        name = 'audit'
        verbose_name = _("Relocation Audit Trail (in chain order)")
        # GET /audit's marker: the last sequence number seen.
        pagination_param = "audit_marker"
