"""Project > Compute > Instance Security: list and change.

Only the project's own servers are listed (Nova scopes ``server_list`` to
the token's project); the host a VM runs on is found through Nova's
per-project ``hostId`` and is never shown.
"""

from django.urls import reverse
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import tables
from openstack_dashboard import api

from sod_horizon.api import sod
from sod_horizon.content.instance_security import forms as sec_forms
from sod_horizon.content.instance_security import tables as sec_tables


class InstanceRow:
    """One table row: a server and sod-nova's verdict on it."""

    def __init__(self, server, verdict):
        self.id = server.id
        self.name = server.name
        self.status = server.status
        self.request = verdict['request']
        self.compliant = verdict['compliant']
        reasons = [verdict['reason']] if verdict['reason'] else []
        self.reason = '; '.join(reasons + verdict['errors'])


def flavor_extra_specs(request, server, cache):
    """The extra specs of ``server``'s flavor (embedded from microversion
    2.47, else read once per flavor)."""
    flavor = getattr(server, 'flavor', None) or {}
    if 'extra_specs' in flavor:
        return flavor['extra_specs'] or {}
    flavor_id = flavor.get('id')
    if not flavor_id:
        return {}
    if flavor_id not in cache:
        cache[flavor_id] = api.nova.flavor_get_extras(request, flavor_id,
                                                      raw=True)
    return cache[flavor_id]


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
        try:
            rows = sod.host_rows()
        except Exception:
            exceptions.handle(self.request, _(
                'Unable to read the trust states of the servers.'))
            rows = []
        extras = {}
        result = []
        for server in servers:
            try:
                specs = flavor_extra_specs(self.request, server, extras)
            except Exception:
                specs = {}
                exceptions.handle(self.request, _(
                    'Unable to read the flavor of instance "%s".') % server.name)
            result.append(InstanceRow(server, sod.compliance(server, specs,
                                                             rows)))
        return result


class ChangeSecurityView(forms.ModalFormView):
    form_class = sec_forms.ChangeSecurityForm
    form_id = 'change_security_form'
    modal_id = 'change_security_modal'
    template_name = 'project/instance_security/change.html'
    page_title = _("Change Security")
    submit_label = _("Change Security")
    submit_url = 'horizon:project:instance_security:change'
    success_url = reverse_lazy('horizon:project:instance_security:index')

    def _server(self):
        if not hasattr(self, '_cached_server'):
            try:
                self._cached_server = api.nova.server_get(
                    self.request, self.kwargs['instance_id'])
            except Exception:
                exceptions.handle(
                    self.request, _('Unable to retrieve the instance.'),
                    redirect=reverse('horizon:project:instance_security:index'))
        return self._cached_server

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['submit_url'] = reverse(self.submit_url,
                                        args=[self.kwargs['instance_id']])
        context['instance'] = self._server()
        return context

    def get_initial(self):
        metadata = getattr(self._server(), 'metadata', None) or {}
        options = [o.strip() for o in
                   str(metadata.get(sod.OPTIONS_KEY, '')).split(',')
                   if o.strip()]
        properties = [p.strip().upper() for p in
                      str(metadata.get(sod.PROPERTIES_KEY, 'C,I')).split(',')
                      if p.strip()]
        return {'instance_id': self.kwargs['instance_id'],
                'package': metadata.get(sod.PACKAGE_KEY, ''),
                'options': options, 'properties': properties}
