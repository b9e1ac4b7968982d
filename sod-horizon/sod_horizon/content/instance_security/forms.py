"""Change the requested security of a running VM.

The form asks sod-nova-api: ``POST /requests/check`` to validate the choice
and say whether any host here can take it now, then ``PUT
/servers/{id}/security``, which writes the server's metadata through Nova
with the user's token (stricter keys before looser ones). The migration
manager then moves the VM when its host no longer satisfies the new
request (paper §III-D, policy change).
"""

from django.utils.translation import gettext_lazy as _
from horizon import forms
from horizon import messages

from sod_horizon.api import choice
from sod_horizon.api import sod

PROPERTY_CHOICES = (('C', _("Confidentiality (C)")), ('I', _("Integrity (I)")))
FIELD_OF = {choice.PACKAGE_KEY: 'package', choice.OPTIONS_KEY: 'options',
            choice.PROPERTIES_KEY: 'properties'}


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
        try:
            packages = choice.packages(request)
        except sod.SodApiError as exc:
            packages = []
            messages.error(request, _(
                'Unable to read the security packages: %s') % exc)
        self.fields['package'].choices = [('', _("No package"))] + [
            (p['name'], '%s - %s' % (p['name'], p['description']))
            for p in packages]
        self.fields['options'].choices = [
            (str(o['number']), '%d. %s' % (o['number'], o['label']))
            for o in choice.options() if not o['refused']]

    def clean(self):
        data = super().clean()
        options = data.get('options') or []
        try:
            verdict = choice.check(
                self.request, data.get('package') or None, options,
                data.get('properties') if options else None)
        except sod.SodApiError as exc:
            raise forms.ValidationError(
                _('sod-nova could not check the choice: %s') % exc) from None
        if not verdict['valid']:
            raise forms.ValidationError({
                FIELD_OF.get(verdict['field'], 'options'): verdict['error']})
        if not verdict['satisfiable'] and not data.get('pause_ok'):
            raise forms.ValidationError(verdict['message'])
        data['body'] = choice.body(data.get('package') or None, options,
                                   data.get('properties') if options
                                   else None)
        return data

    def handle(self, request, data):
        instance_id = data['instance_id']
        try:
            security = sod.set_security(request, instance_id, data['body'])
        except sod.SodApiError as exc:
            messages.error(request, _(
                'Unable to change the security of instance "%(id)s": '
                '%(why)s') % {'id': instance_id, 'why': exc})
            return False
        messages.success(request, _(
            'Requested security of "%(name)s" changed. It is moved to a '
            'server that enforces it if its current one does not.')
            % {'name': security.get('name') or instance_id})
        return True
