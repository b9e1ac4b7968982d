"""Change the requested security of a running VM.

Writing the instance metadata is all it takes: the migration manager hears
Nova's ``instance.update`` notification and moves the VM when its host no
longer satisfies the new request (paper §III-D, policy change).
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from horizon import exceptions
from horizon import forms
from horizon import messages
from openstack_dashboard import api

from sod_horizon.api import sod
from sod_nova.policy import PolicyError

PROPERTY_CHOICES = (('C', _("Confidentiality (C)")), ('I', _("Integrity (I)")))
FIELD_OF = {sod.PACKAGE_KEY: 'package', sod.OPTIONS_KEY: 'options',
            sod.PROPERTIES_KEY: 'properties'}


class ChangeSecurityForm(forms.SelfHandlingForm):
    instance_id = forms.CharField(widget=forms.HiddenInput())
    package = forms.ChoiceField(label=_("Security package"), required=False)
    options = forms.MultipleChoiceField(
        label=_("Entities you do not trust"), required=False,
        widget=forms.CheckboxSelectMultiple)
    properties = forms.MultipleChoiceField(
        label=_("Protect"), required=False, choices=PROPERTY_CHOICES,
        widget=forms.CheckboxSelectMultiple, initial=['C', 'I'])
    pause_ok = forms.BooleanField(
        label=_("Apply even if no server can satisfy it now (the instance "
                "is then paused until one can)"), required=False)

    def __init__(self, request, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields['package'].choices = [('', _("No package"))] + [
            (p['name'], '%s - %s' % (p['name'], p['description']))
            for p in sod.packages()]
        self.fields['options'].choices = [
            (str(o['number']), '%d. %s' % (o['number'], o['label']))
            for o in sod.options() if not o['refused']]

    def clean(self):
        data = super().clean()
        options = data.get('options') or []
        try:
            metadata = sod.choice_metadata(
                data.get('package') or None, options,
                data.get('properties') if options else None)
        except PolicyError as exc:
            raise forms.ValidationError({
                FIELD_OF.get(exc.field, 'options'): exc.reason}) from None
        verdict = sod.check(metadata)
        if not verdict['satisfiable'] and not data.get('pause_ok'):
            raise forms.ValidationError(verdict['message'])
        data['metadata'] = metadata
        return data

    def handle(self, request, data):
        instance_id = data['instance_id']
        new = data['metadata']
        try:
            server = api.nova.server_get(request, instance_id)
            current = getattr(server, 'metadata', None) or {}
            # Write the new keys before removing old ones: in between the VM
            # asks for the union, the safe (stricter) side.
            if new:
                api.nova.server_metadata_update(request, instance_id, new)
            stale = [k for k in sod.CHOICE_KEYS if k in current and k not in new]
            if stale:
                api.nova.server_metadata_delete(request, instance_id, stale)
        except Exception:
            redirect = reverse('horizon:project:instance_security:index')
            exceptions.handle(request, _('Unable to change the security of '
                                         'instance "%s".') % instance_id,
                              redirect=redirect)
            return False
        messages.success(request, _(
            'Requested security of "%(name)s" changed. It is moved to a '
            'server that enforces it if its current one does not.')
            % {'name': server.name})
        return True
