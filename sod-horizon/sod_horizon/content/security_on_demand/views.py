"""Admin > System > Security on Demand: the state of the whole cloud.

Read from sod-nova-api with the operator's token: ``GET /hosts`` (trust
rows, freshness applied by the API), ``GET /compliance?all_projects=1``
over the present instant (the VMs paused now for want of a compliant host)
and ``GET /audit``, one page at a time with the API's paging, each page
verified by the API against the entry before it.
"""

import datetime

from django.utils.translation import gettext_lazy as _
from horizon import messages
from horizon import tables

from sod_horizon.api import sod
from sod_horizon.content.security_on_demand import tables as sod_tables

AUDIT_ROWS = 50


def _when(value):
    """A datetime from the API's ISO 8601 text or epoch seconds."""
    if value is None or value == '':
        return None
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.UTC)
    return datetime.datetime.fromisoformat(value)


class HostRow:
    """A host as the filter sees it now: a trusted host whose evidence is
    too old is shown unreachable, with the API's reason."""

    def __init__(self, host):
        self.host = host['name']
        self.architecture = host['architecture']
        stale = not host['usable'] and host['state'] == 'trusted'
        self.state = 'unreachable' if stale else host['state']
        self.reason = (host['usable_reason'] if stale else host['reason']) or ''
        self.last_evidence_at = _when(host['last_evidence_at'])
        self.monitor = host['monitor'] or ''


class ParkedRow:
    """A VM paused (suspended, stopped) now for want of a compliant host."""

    def __init__(self, report, pause):
        self.vm = report['server_id']
        self.name = report.get('name') or ''
        self.action = pause.get('action') or ''
        self.since = _when(pause['start'])
        self.reason = pause.get('reason') or ''


def audit_row(entry):
    data = entry['entry'] or {}
    return {'seq': entry['seq'],
            'time': _when(data.get('at') or entry['created_at']),
            'event': data.get('event', ''), 'vm': data.get('vm', ''),
            'trigger': data.get('trigger', ''), 'source': data.get('from', ''),
            'destination': data.get('to') or '',
            'reason': data.get('reason') or data.get('outcome') or ''}


class IndexView(tables.MultiTableView):
    table_classes = (sod_tables.HostTrustTable, sod_tables.ParkedTable,
                     sod_tables.AuditTable)
    template_name = 'admin/security_on_demand/index.html'
    page_title = _("Security on Demand")

    def _failed(self, what, exc):
        messages.error(self.request, _('Unable to read %(what)s: %(why)s')
                       % {'what': what, 'why': exc})

    def get_hosts_data(self):
        try:
            return sorted((HostRow(h) for h in sod.hosts(self.request)),
                          key=lambda r: r.host)
        except sod.SodApiError as exc:
            self._failed(_('the host trust states'), exc)
            return []

    def get_parked_data(self):
        now = datetime.datetime.now(datetime.UTC).isoformat()
        try:
            reports = sod.compliance_all_projects(
                self.request, {'start': now, 'end': now})
        except sod.SodApiError as exc:
            self._failed(_('the paused instances'), exc)
            return []
        return [ParkedRow(r, p) for r in reports for p in r['pauses']
                if p['ongoing']]

    def has_more_data(self, table):
        if table.name == sod_tables.AuditTable.Meta.name:
            return bool(getattr(self, '_audit', {}).get('links'))
        return False

    def get_audit_data(self):
        marker = self.request.GET.get(
            sod_tables.AuditTable.Meta.pagination_param)
        try:
            page = sod.audit(self.request, marker=marker or None,
                             limit=AUDIT_ROWS)
        except sod.SodApiError as exc:
            self._failed(_('the relocation audit trail'), exc)
            self._audit = {}
            return []
        self._audit = page
        return [audit_row(e) for e in page['entries']]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = getattr(self, '_audit', {})
        context['audit_verification'] = page.get('verification')
        head = page.get('head_seq')
        context['audit_head'] = head
        if head and head > AUDIT_ROWS:
            # The newest page: the API pages forward from a marker.
            context['audit_latest_marker'] = max(head - AUDIT_ROWS, 0)
            context['audit_marker_param'] = (
                sod_tables.AuditTable.Meta.pagination_param)
        return context
