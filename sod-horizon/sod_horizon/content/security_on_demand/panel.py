"""Admin > System > Security on Demand."""

from django.utils.translation import gettext_lazy as _
import horizon


class SecurityOnDemand(horizon.Panel):
    name = _("Security on Demand")
    slug = 'security_on_demand'
    permissions = ('openstack.roles.admin', 'openstack.services.compute')
