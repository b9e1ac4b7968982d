"""The request context: who asks, and ``can()`` them do it."""

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade

from sod_nova.api import errors
from sod_nova.api import util

#: ``X-Service-Catalog`` as :mod:`sod_nova.api.objects.server` reads it:
#: services with a ``type`` and ``endpoints`` of text (v2 ``publicURL``...,
#: v3 ``interface``/``url``). keystonemiddleware writes it from the token;
#: with ``noauth2`` anybody does.
SERVICE_CATALOG = {
    'type': 'array',
    'items': {
        'type': 'object',
        'properties': {
            'type': {'type': 'string'},
            'endpoints': {'type': 'array', 'items': {
                'type': 'object',
                'additionalProperties': {'type': ['string', 'null']}}},
        },
    },
}


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """oslo.context's context plus the policy enforcer and the caller's
    service catalog (keystonemiddleware's ``X-Service-Catalog``), through
    which sod-nova-api finds Nova for calls made with the caller's token.
    A transaction context too (as Placement's is): the objects' database
    calls take it."""

    def __init__(self, *args, enforcer=None, service_catalog=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.enforcer = enforcer
        self.service_catalog = service_catalog or []

    @classmethod
    def from_environ(cls, environ, **kwargs):
        """The context of a request; a malformed ``X-Service-Catalog`` is
        a 400 :class:`~sod_nova.api.util.ApiError`."""
        catalog = environ.get('HTTP_X_SERVICE_CATALOG')
        if catalog:
            catalog = util.load_json(catalog, 'X-Service-Catalog')
            util.validate(catalog, SERVICE_CATALOG,
                          'X-Service-Catalog is not a service catalog')
        kwargs['service_catalog'] = catalog or []
        return super().from_environ(environ, **kwargs)

    def can(self, action, target=None, fatal=True):
        """True when policy ``action`` allows the caller on ``target``.

        ``target`` defaults to the caller's own project. With ``fatal`` a
        refusal is a 403 :class:`~sod_nova.api.util.ApiError`.
        """
        if target is None:
            target = {'project_id': self.project_id, 'user_id': self.user_id}
        allowed = self.enforcer.authorize(action, target, self,
                                          do_raise=False)
        if not allowed and fatal:
            raise util.ApiError(403, 'Policy does not allow %s to be '
                                'performed.' % action, errors.FORBIDDEN)
        return bool(allowed)
