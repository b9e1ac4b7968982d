"""A "Security" tab on Project > Instances > an instance's detail page.

Added through the ``EXTRA_TABS`` of the enabled file, Horizon's way for a
plugin to extend another panel's tab group. It shows sod-nova-api's
``GET /servers/{id}/security`` (what is asked for and whether the server
enforces it now) and ``GET /servers/{id}/compliance`` (the VM's record
over its life: time compliant, each violation and what ended it).
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import messages
from horizon import tabs

from sod_horizon.api import sod
from sod_horizon.content.instance_security import tables as sec_tables
from sod_horizon.content.instance_security import views


class SecurityTab(tabs.Tab):
    name = _("Security")
    slug = 'sod_security'
    template_name = 'project/instance_security/_detail_security.html'

    def get_context_data(self, request):
        instance = self.tab_group.kwargs['instance']
        row, error = views.security_row(request, instance)
        if error is not None:
            row = None
            messages.error(request, _(
                'Unable to check the security of the instance: %s') % error)
        record = None
        if row is not None:
            try:
                record = sod.compliance(request, instance.id)
            except sod.SodApiError as exc:
                messages.error(request, _(
                    'Unable to read the compliance record: %s') % exc)
        return {'row': row, 'record': record,
                'compliant': sec_tables.compliance_label(row) if row else '',
                'change_url': reverse('horizon:project:instance_security:change',
                                      args=[instance.id])}
