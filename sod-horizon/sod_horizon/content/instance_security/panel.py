"""Project > Compute > Instance Security."""

from django.utils.translation import gettext_lazy as _
import horizon


class InstanceSecurity(horizon.Panel):
    name = _("Instance Security")
    slug = 'instance_security'
    permissions = ('openstack.services.compute',)
    policy_rules = (("compute", "os_compute_api:servers:index"),)
