"""``sod-nova-status upgrade check``: is this deployment ready to run sod-nova?

oslo.upgradecheck's command, as ``nova-status`` has. Each check reads
configuration, the database or Nova's flavors, never changes them, and says
what to fix. Exit status: 0 all passed, 1 a warning, 2 a failure.

See doc/source/contributor/api-and-cli.rst.
"""

import collections
import sys

from oslo_config import cfg
from oslo_upgradecheck import upgradecheck

from sod_nova.catalog import CatalogError
from sod_nova.catalog import guest_fit
from sod_nova.compliance import request as compliance_request
import sod_nova.conf
from sod_nova.conf import catalog as catalog_conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import migration as db_migration
from sod_nova.relocation import compute
from sod_nova.trust import challenges
from sod_nova.trust import keys
from sod_nova.trust import nonces
from sod_nova.trust import rpc

CONF = sod_nova.conf.CONF

FILTER = 'SecurityOnDemandFilter'
FILTER_PATH = 'sod_nova.scheduler.filters.' + FILTER
#: Nova's defaults, where nova.conf leaves an option out.
NOVA_AVAILABLE_FILTERS = ['nova.scheduler.filters.all_filters']
NOVA_NOTIFICATION_FORMAT = 'unversioned'
NOVA_VERSIONED_TOPICS = ['versioned_notifications']
#: Drivers that put notifications on the message bus.
BUS_DRIVERS = ('messagingv2', 'messaging')

#: A key a service stops at start without: its option, the service, what to
#: run to make it, and the service's own loader (raises ``errors``).
Key = collections.namedtuple('Key', 'group option service make load errors')
NONCE_KEY = Key(
    'sod_trust', 'nonce_key_file', 'sod-trust-monitor',
    'run "openssl rand -hex 32 > /etc/sod_nova/nonce.key" (mode 0600, the '
    'same file on every monitor of the group)',
    nonces.load_key, nonces.NonceKeyError)
AUDIT_KEY = Key(
    'sod_audit', 'key_file', 'sod-migration-manager',
    'run "openssl rand -hex 32 > /etc/sod_nova/audit.key" (mode 0600)',
    audit.load_key, audit.AuditKeyError)
CHALLENGE_KEY = Key(
    'sod_trust', 'challenge_public_key_file', 'sod-trust-agent',
    'on a monitor run "sod-nova trust challenge-key > '
    '/etc/sod_nova/challenge.pub", copy the file here',
    challenges.load_public_keys, challenges.ChallengeKeyError)

_success = upgradecheck.Result(upgradecheck.Code.SUCCESS)


def _failure(details):
    return upgradecheck.Result(upgradecheck.Code.FAILURE, details)


def _warning(details):
    return upgradecheck.Result(upgradecheck.Code.WARNING, details)


def _first_line(exc):
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def nova_flavors(nova):
    """``[(name, extra specs)]`` of every flavor, public and private, as
    ``nova`` (a :class:`~sod_nova.relocation.compute.NovaCompute` with an
    admin's credentials) reads them from Nova's API: ``is_public=none`` (an
    admin's "all"), and the extra specs come with the listing from
    microversion 2.61, which openstacksdk asks for."""
    return [(flavor.name, dict(flavor.extra_specs or {}))
            for flavor in nova.conn.compute.flavors(
                details=True, is_public='none')]


class NovaConfig:
    """The options of Nova's configuration files, as oslo.config reads them.

    ``get`` gives every value of an option across the files in order (a
    later file wins, a multi-valued option accumulates), or None when no file
    sets it.
    """

    def __init__(self, paths):
        self.paths = list(paths)
        self._sections = []
        for path in self.paths:
            sections = {}
            cfg.ConfigParser(path, sections).parse()
            self._sections.append(sections)

    def get(self, group, option, multi=False):
        found = None
        for sections in self._sections:
            values = sections.get(group, {}).get(option)
            if values is None:
                continue
            found = (found or []) + values if multi else values
        if found is None:
            return None
        return found if multi else found[-1]

    def where(self):
        return ', '.join(self.paths)


class Checks(upgradecheck.UpgradeCommands):
    """The checks, in the order an operator fixes them."""

    def __init__(self, conf=None, flavors=None):
        """``flavors``: a callable giving ``[(name, extra specs)]``; Nova's
        flavors read with ``[nova]``'s credentials by default."""
        self.conf = conf or CONF
        self._flavors = flavors or self._nova_flavors

    def _nova_flavors(self):
        if not self.conf.nova.auth_type:
            raise ValueError('[nova] has no credentials (auth_type); run the '
                             'check with the migration manager\'s '
                             'configuration file')
        return nova_flavors(compute.connect(self.conf))

    def _server_types(self):
        """The architectures of this cloud's declared hosts, or None (no
        host declared, or the database unreadable: judge by every row)."""
        try:
            db_api.configure(self.conf)
            rows = db_api.host_get_all(db_api.Context())
        except Exception:   # the database check reports it
            return None
        return sorted({row.architecture for row in rows}) or None

    def _nova(self):
        paths = self.conf.sod_upgrade_check.nova_config_files
        if not paths:
            raise ValueError('set [sod_upgrade_check] nova_config_files to '
                             'nova-scheduler\'s configuration files')
        try:
            return NovaConfig(paths)
        except (OSError, cfg.ParseError) as exc:
            raise ValueError('cannot read [sod_upgrade_check] nova_config_files: '
                             '%s' % exc) from None

    def _is_set(self, option, group):
        """Whether the node's configuration (its files, the command line or
        the environment) sets ``option``, rather than its default."""
        where = self.conf.get_location(option, group)
        return where is not None and where.location.is_user_controlled

    def _keys_needed(self):
        """The keys of the services this configuration runs (module doc)."""
        agent = (bool(self.conf.sod_trust.private_key_file)
                 or self._is_set('host', 'sod_trust'))
        needed = [CHALLENGE_KEY] if agent else []
        if not agent or self._is_set('connection', 'sod_database'):
            needed = [NONCE_KEY, AUDIT_KEY] + needed
        return needed

    def _check_database(self):
        head = db_migration.head()
        try:
            current = db_migration.version(self.conf)
        except Exception as exc:   # any driver's error: report, don't trace
            return _failure('cannot read the sod-nova database ([sod_database] '
                            'connection): %s' % str(exc).splitlines()[0])
        if current != head:
            return _failure('the sod-nova database is at revision %s, the code '
                            'needs %s: run "sod-nova db sync"' % (
                                current or 'none (never synced)', head))
        return _success

    def _check_filter(self):
        try:
            nova = self._nova()
        except ValueError as exc:
            return _failure(str(exc))
        available = (nova.get('filter_scheduler', 'available_filters', multi=True)
                     or NOVA_AVAILABLE_FILTERS)
        if FILTER_PATH not in available:
            return _failure('[filter_scheduler] available_filters of %s does not '
                            'list %s (add it as a second available_filters line)'
                            % (nova.where(), FILTER_PATH))
        enabled = [name.strip() for name in (nova.get(
            'filter_scheduler', 'enabled_filters') or '').split(',')]
        if FILTER not in enabled:
            return _failure('[filter_scheduler] enabled_filters of %s does not '
                            'include %s: nova-scheduler places VMs without '
                            'checking their security requests' % (
                                nova.where(), FILTER))
        return _success

    def _check_notifications(self):
        if not self.conf.sod_relocation.listen_notifications:
            return upgradecheck.Result(
                upgradecheck.Code.WARNING,
                '[sod_relocation] listen_notifications is off: the migration '
                'manager sees policy changes only at its reconcile pass')
        try:
            nova = self._nova()
        except ValueError as exc:
            return _failure(str(exc))
        problems = []
        fmt = (nova.get('notifications', 'notification_format')
               or NOVA_NOTIFICATION_FORMAT)
        if fmt not in ('versioned', 'both'):
            problems.append('[notifications] notification_format is %s (set '
                            'versioned or both)' % fmt)
        if not nova.get('notifications', 'notify_on_state_change'):
            problems.append('[notifications] notify_on_state_change is not set '
                            '(set vm_and_task_state)')
        drivers = nova.get('oslo_messaging_notifications', 'driver',
                           multi=True) or []
        drivers = [d.strip() for value in drivers for d in value.split(',')]
        if not any(d in BUS_DRIVERS for d in drivers):
            problems.append('[oslo_messaging_notifications] driver is %s (set '
                            'messagingv2)' % (','.join(drivers) or 'unset'))
        topic = self.conf.sod_relocation.nova_notification_topic
        topics = (nova.get('notifications', 'versioned_notifications_topics')
                  or ','.join(NOVA_VERSIONED_TOPICS)).split(',')
        if topic not in [t.strip() for t in topics]:
            problems.append('[notifications] versioned_notifications_topics '
                            'does not include %s ([sod_relocation] '
                            'nova_notification_topic)' % topic)
        if problems:
            return _failure('Nova (%s) does not send the versioned instance.update '
                            'notifications the migration manager needs: %s' % (
                                nova.where(), '; '.join(problems)))
        return _success

    def _check_transport(self):
        problem = rpc.transport_problem(self.conf)
        return _failure(problem) if problem else _success

    def _check_keys(self):
        problems = []
        loaded = {}
        for key in self._keys_needed():
            path = self.conf[key.group][key.option]
            if not path:
                problems.append('[%s] %s is not set: %s stops at start '
                                'without it; %s and set it' % (
                                    key.group, key.option, key.service,
                                    key.make))
                continue
            try:
                loaded[key] = key.load(path)
            except key.errors as exc:   # one line naming the file
                problems.append(str(exc))
        if NONCE_KEY in loaded and CHALLENGE_KEY in loaded:
            group_key = challenges.public_key_text(loaded[NONCE_KEY])
            if group_key not in map(keys.public_key_text,
                                    loaded[CHALLENGE_KEY]):
                problems.append(
                    '[sod_trust] challenge_public_key_file %s does not hold '
                    'the challenge key of nonce_key_file %s: this agent '
                    'would drop every challenge of this monitor group (run '
                    '"sod-nova trust challenge-key > %s")' % (
                        self.conf.sod_trust.challenge_public_key_file,
                        self.conf.sod_trust.nonce_key_file,
                        self.conf.sod_trust.challenge_public_key_file))
        return _failure(' | '.join(problems)) if problems else _success

    def _check_flavor_guests(self):
        try:
            catalog = catalog_conf.load_catalog(self.conf)
        except CatalogError as exc:
            return _failure('the catalogue is unusable ([sod_catalog]): %s'
                            % exc)
        try:
            flavors = self._flavors()
        except Exception as exc:   # keystoneauth's, openstacksdk's, ours
            return _warning('cannot read Nova\'s flavors to check their sod: '
                            'requests: %s' % _first_line(exc))
        names = self._server_types()
        among = ('among this cloud\'s server types (%s)' % ', '.join(names)
                 if names else 'in the catalogue')
        found = []
        for name, specs in sorted(flavors):
            launched = compliance_request.effective(catalog.packages, specs)
            if launched.malformed:
                found.append('flavor %s has a malformed sod: request (%s), '
                             'so its VMs are held to the strictest request'
                             % (name, '; '.join(launched.errors)))
                continue
            fit = guest_fit.fit(catalog, launched.request, launched.guest,
                                guest_fit.not_asked(name), names)
            if fit.only_conditional:
                found.append(
                    'flavor %s asks for %s, which %s only a guest launched '
                    'for it gets: %s' % (name, launched.request, among,
                                         '. '.join(fit.sentences())))
        if not found:
            return _success
        return _warning(
            '%d flavor%s will not have %s VMs protected as asked (no host '
            'takes them unless their image asks for the guest): %s. Give '
            'each flavor the launch extra specs named, or change its sod: '
            'request' % (len(found), '' if len(found) == 1 else 's',
                         'its' if len(found) == 1 else 'their',
                         ' | '.join(found)))

    _upgrade_checks = (
        ('sod-nova database at head', _check_database),
        ('SecurityOnDemandFilter enabled in nova-scheduler', _check_filter),
        ('Nova versioned notifications', _check_notifications),
        ('Message transport', _check_transport),
        ('Keys the services of this node need', _check_keys),
        ('Flavors launch the guests their sod: requests need',
         _check_flavor_guests),
    )


def main(argv=None):
    # Fail fast on an unreachable database: a check, not a service start.
    CONF.set_override('max_retries', 0, 'sod_database')
    return upgradecheck.main(CONF, 'sod_nova', Checks(CONF),
                             sys.argv[1:] if argv is None else argv)


if __name__ == '__main__':
    sys.exit(main())
