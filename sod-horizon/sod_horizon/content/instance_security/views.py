"""Project > Compute > Instance Security: list and change.

Only the project's own servers are listed (Nova scopes ``server_list`` to
the token's project). Each server's requested security and verdict come
from sod-nova-api's ``GET /servers/{id}/security`` with the user's token:
the API finds the host and, for a project, leaves its name out.
"""

from django import shortcuts
from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import messages
from horizon import tables
from openstack_dashboard import api

from sod_horizon.api import choice
from sod_horizon.api import sod
from sod_horizon.content.instance_security import forms as sec_forms
from sod_horizon.content.instance_security import tables as sec_tables


class InstanceRow:
    """One table row: a server and sod-nova-api's verdict on it.

    ``security`` is the API's security document, or None when the API did
    not answer (``error`` then says why, and the verdict is unknown).
    """

    def __init__(self, server, security, error=None):
        self.id = server.id
        self.name = server.name
        self.status = server.status
        if security is None:
            self.request = '-'
            self.compliant = None
            self.reason = error or ''
            self.paused = False
            return
        effective = security['effective']
        self.request = effective['text']
        self.compliant = security['compliant']
        reasons = [security['reason']] if security.get('reason') else []
        self.reason = '; '.join(reasons + list(effective.get('errors') or []))
        self.paused = bool((security.get('paused') or {}).get('paused'))


def security_row(request, server):
    """The :class:`InstanceRow` of ``server`` and the API's error, if any."""
    try:
        return InstanceRow(server, sod.security(request, server.id)), None
    except sod.SodApiError as exc:
        return InstanceRow(server, None, str(exc)), exc


class IndexView(tables.DataTableView):
    table_class = sec_tables.InstanceSecurityTable
    template_name = 'project/instance_security/index.html'
    page_title = _("Instance Security")

    def has_more_data(self, table):
        return self._more

    def get_data(self):
        # Nova's pages, as Project > Instances pages them.
        marker = self.request.GET.get(
            self.table_class._meta.pagination_param)
        self._more = False
        try:
            servers, self._more = api.nova.server_list(
                self.request, search_opts={'marker': marker, 'paginate': True})
        except Exception:
            exceptions.handle(self.request, _('Unable to retrieve instances.'))
            return []
        rows, failures = [], []
        for server in servers:
            row, error = security_row(self.request, server)
            rows.append(row)
            if error is not None:
                failures.append(error)
        if failures:
            # One message for the page, not one per instance.
            messages.error(self.request, _(
                'Unable to read the security of %(count)d instance(s): '
                '%(why)s') % {'count': len(failures), 'why': failures[0]})
        return rows


class ChangeSecurityView(forms.ModalFormView):
    form_class = sec_forms.ChangeSecurityForm
    form_id = 'change_security_form'
    modal_id = 'change_security_modal'
    template_name = 'project/instance_security/change.html'
    page_title = _("Change Security")
    submit_label = _("Change Security")
    submit_url = 'horizon:project:instance_security:change'
    success_url = reverse_lazy('horizon:project:instance_security:index')

    def _security(self):
        """The API's security document, or None (a message says why)."""
        if not hasattr(self, '_cached_security'):
            try:
                self._cached_security = sod.security(
                    self.request, self.kwargs['instance_id'])
            except sod.SodApiError as exc:
                self._cached_security = None
                messages.error(self.request, _(
                    'Unable to read the security of the instance: %s') % exc)
        return self._cached_security

    def get(self, request, *args, **kwargs):
        if self._security() is None:
            return shortcuts.redirect(self.success_url)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['submit_url'] = reverse(self.submit_url,
                                        args=[self.kwargs['instance_id']])
        security = self._security() or {}
        context['instance_name'] = (security.get('name')
                                    or self.kwargs['instance_id'])
        return context

    def get_initial(self):
        security = self._security() or {}
        keys = security.get('requested', {}).get('metadata', {}).get(
            'keys') or {}
        options = [o.strip() for o in
                   str(keys.get(choice.OPTIONS_KEY, '')).split(',')
                   if o.strip()]
        properties = [p.strip().upper() for p in str(keys.get(
            choice.PROPERTIES_KEY, 'C,I')).split(',') if p.strip()]
        return {'instance_id': self.kwargs['instance_id'],
                'package': keys.get(choice.PACKAGE_KEY, ''),
                'options': options, 'properties': properties}
