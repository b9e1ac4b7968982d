"""Admin > System > Security on Demand: the state of the whole cloud.

Read straight from sod-nova's database (trust rows with the filter's
freshness rule, open relocation tasks, the hash-chained audit) and from
Nova for the names of parked instances.
"""

from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import tables
from openstack_dashboard import api

from sod_horizon.api import sod
from sod_horizon.content.security_on_demand import tables as sod_tables

AUDIT_ROWS = 50


class ParkedRow:
    def __init__(self, task, name):
        self.vm = task.vm
        self.name = name
        self.action = task.action or ''
        self.trigger = task.trigger
        self.source_host = task.source_host
        self.reason = task.reason or ''


class IndexView(tables.MultiTableView):
    table_classes = (sod_tables.HostTrustTable, sod_tables.ParkedTable,
                     sod_tables.AuditTable)
    template_name = 'admin/security_on_demand/index.html'
    page_title = _("Security on Demand")

    def get_hosts_data(self):
        try:
            return sod.host_states()
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to read the host trust states.'))
            return []

    def get_parked_data(self):
        try:
            tasks = sod.paused_vms()
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to read the relocation tasks.'))
            return []
        rows = []
        for task in tasks:
            try:
                name = api.nova.server_get(self.request, task.vm).name
            except Exception:
                name = ''
            rows.append(ParkedRow(task, name))
        return rows

    def get_audit_data(self):
        try:
            entries, self._broken = sod.audit_trail(AUDIT_ROWS)
        except Exception:
            exceptions.handle(self.request,
                              _('Unable to read the relocation audit trail.'))
            self._broken = None
            return []
        self._audit_count = entries[0]['seq'] if entries else 0
        return entries

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['audit_broken'] = getattr(self, '_broken', None)
        context['audit_count'] = getattr(self, '_audit_count', 0)
        return context
