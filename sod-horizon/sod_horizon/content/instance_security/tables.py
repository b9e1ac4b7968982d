"""The project's instances with their requested security and compliance."""

from django.utils.translation import gettext_lazy as _
from horizon import tables

COMPLIANCE_LABELS = {True: _("Yes"), False: _("No"), None: _("Unknown")}


def compliance_label(row):
    return COMPLIANCE_LABELS[row.compliant]


class ChangeSecurity(tables.LinkAction):
    name = 'change_security'
    verbose_name = _("Change Security")
    url = 'horizon:project:instance_security:change'
    classes = ('ajax-modal',)
    icon = 'lock'
    # set_meta (POST) then delete_meta: what the form calls.
    policy_rules = (("compute", "os_compute_api:server-metadata:create"),
                    ("compute", "os_compute_api:server-metadata:delete"))


class InstanceSecurityTable(tables.DataTable):
    name = tables.WrappingColumn('name', verbose_name=_("Instance Name"),
                                 link='horizon:project:instances:detail')
    status = tables.Column('status', verbose_name=_("Status"))
    request = tables.Column('request', verbose_name=_("Requested Security"))
    compliant = tables.Column(compliance_label, verbose_name=_("Compliant Now"))
    reason = tables.Column('reason', verbose_name=_("Reason"))

    class Meta:
        name = 'instance_security'
        verbose_name = _("Instance Security")
        row_actions = (ChangeSecurity,)
