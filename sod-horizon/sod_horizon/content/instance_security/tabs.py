"""A "Security" tab on Project > Instances > an instance's detail page.

Added through the ``EXTRA_TABS`` of the enabled file, Horizon's way for a
plugin to extend another panel's tab group.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
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
        try:
            specs = views.flavor_extra_specs(request, instance, {})
            row = views.InstanceRow(instance, sod.compliance(instance, specs))
        except Exception:
            row = None
            exceptions.handle(request, _(
                'Unable to check the security of the instance.'))
        return {'row': row,
                'compliant': sec_tables.compliance_label(row) if row else '',
                'change_url': reverse('horizon:project:instance_security:change',
                                      args=[instance.id])}
