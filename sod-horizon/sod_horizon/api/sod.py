"""The plugin's one door to sod-nova: catalogue, policy, trust rows, audit.

Every answer is computed by sod-nova's own code (the same parser, catalogue
and compliance rule the scheduler filter and the migration manager use), read
from the files and database that sod-nova's configuration names. Nothing here
keeps a copy of the catalogue or re-implements a rule, so the Dashboard can
never tell a customer something the scheduler would not do.

The configuration is read from the files in the Django setting
``SOD_NOVA_CONFIG_FILES`` (default ``/etc/sod_nova/sod_nova.conf`` when it
exists) into a private ``ConfigOpts``, so that Horizon's process state is not
touched.
"""

import datetime
import functools
import hashlib
import os

from django.conf import settings
from oslo_config import cfg

from sod_nova.catalog import loader as catalog_loader
from sod_nova.conf import catalog as catalog_conf
from sod_nova.conf import database as database_conf
from sod_nova.conf import trust as trust_conf
from sod_nova.db import api as db_api
from sod_nova.db import audit
from sod_nova.db import relocation as relocation_db
from sod_nova.policy import PolicyError
from sod_nova.policy import entities
from sod_nova.policy import parse
from sod_nova.relocation import decision
from sod_nova.relocation import server as server_mod
from sod_nova.relocation import triggers

DEFAULT_CONFIG_FILE = '/etc/sod_nova/sod_nova.conf'

#: The metadata keys the Dashboard writes; the rest of ``sod:`` stays as is.
PACKAGE_KEY = parse.PREFIX + parse.PACKAGE
OPTIONS_KEY = parse.PREFIX + parse.OPTIONS
PROPERTIES_KEY = parse.PREFIX + parse.PROPERTIES
CHOICE_KEYS = (PACKAGE_KEY, OPTIONS_KEY, PROPERTIES_KEY)


def config_files():
    files = getattr(settings, 'SOD_NOVA_CONFIG_FILES', None)
    if files is None:
        files = [DEFAULT_CONFIG_FILE] if os.path.exists(
            DEFAULT_CONFIG_FILE) else []
    return tuple(files)


@functools.lru_cache(maxsize=4)
def _conf(files):
    conf = cfg.ConfigOpts()
    # Only the groups the Dashboard reads: [nova] credentials and the
    # services' options stay out of Horizon.
    for module in (catalog_conf, database_conf, trust_conf):
        module.register_opts(conf)
    conf([], project='sod_nova', default_config_files=list(files))
    return conf


def get_conf():
    """sod-nova's options as the operator set them for this Horizon."""
    return _conf(config_files())


@functools.lru_cache(maxsize=4)
def _catalog(files):
    return catalog_conf.load_catalog(_conf(files))


def get_catalog():
    return _catalog(config_files())


@functools.lru_cache(maxsize=4)
def _descriptions(files):
    return catalog_loader.load_package_descriptions(
        _conf(files).catalog.packages_file or None)


def clear_caches():
    """Forget the configuration and catalogue (tests; a settings change)."""
    _conf.cache_clear()
    _catalog.cache_clear()
    _descriptions.cache_clear()


# -- What a customer can choose ----------------------------------------------

def options():
    """The seven options of Table II, with the one this framework refuses."""
    return [{'number': e.option, 'key': e.key, 'label': e.label,
             'level': e.level.value,
             'refused': e.option in parse.REFUSED_OPTIONS,
             'reason': parse.REFUSED_OPTIONS.get(e.option, '')}
            for e in entities.Entity]


def packages():
    """The operator's security packages, each with what it protects."""
    descriptions = _descriptions(config_files())
    return [{'name': name, 'description': descriptions.get(name, ''),
             'options': list(request.options),
             'protects': request.describe()}
            for name, request in sorted(get_catalog().packages.items())]


def choice_metadata(package=None, options=None, properties=None):
    """The ``sod:`` metadata for a choice, validated by sod-nova's parser.

    ``options`` is a list of option numbers, ``properties`` of ``C``/``I``.
    Raises :class:`PolicyError` naming the field, so a form or the REST API
    can say exactly what is wrong.
    """
    meta = {}
    if package:
        meta[PACKAGE_KEY] = str(package).strip()
    if options:
        meta[OPTIONS_KEY] = ','.join(str(o).strip() for o in options)
        if properties is not None:
            if not properties:
                raise PolicyError(PROPERTIES_KEY,
                                  'choose confidentiality, integrity or both')
            meta[PROPERTIES_KEY] = ','.join(
                str(p).strip().upper() for p in properties)
    elif properties and package is None:
        raise PolicyError(PROPERTIES_KEY, 'given without any option')
    parse.parse_request(meta, get_catalog().packages)
    return meta


# -- Trust rows ----------------------------------------------------------------

def _now():
    return datetime.datetime.now(datetime.UTC)


def host_rows():
    """Every host's capability row as the filter sees it now: a trusted row
    with stale evidence is shown ``unreachable`` (fail closed)."""
    return decision.with_freshness(db_api.host_get_all(get_conf()),
                                   db_api.now())


def check(metadata, rows=None):
    """What a choice asks for and which server types in this cloud satisfy it.

    ``metadata`` holds ``sod:`` keys. The answer lists every catalogue
    architecture that satisfies the request with the number of this cloud's
    hosts of that type (declared, and usable now), and, when no usable host
    can take it, a plain sentence why (before the user clicks Launch).
    """
    catalog = get_catalog()
    try:
        request = parse.parse_request(metadata, catalog.packages)
    except PolicyError as exc:
        return {'valid': False, 'field': exc.field, 'error': exc.reason,
                'refused': exc.refused}
    rows = host_rows() if rows is None else rows
    declared, usable = {}, {}
    for row in rows:
        architecture = catalog.get(row.architecture)
        name = architecture.name if architecture else row.architecture
        declared[name] = declared.get(name, 0) + 1
        if decision.host_satisfies(row, request):
            usable[name] = usable.get(name, 0) + 1
    types = [{'name': name, 'hosts': declared.get(name, 0),
              'usable_hosts': usable.get(name, 0)}
             for name in catalog.satisfying(request)]
    answer = {'valid': True, 'request': request.describe(),
              'options': list(request.options),
              'server_types': types,
              'satisfiable': not request or any(t['usable_hosts'] for t in types)}
    if not answer['satisfiable']:
        in_cloud = [t['name'] for t in types if t['hosts']]
        if not types:
            why = catalog.explain(request)
        elif in_cloud:
            why = ('the hosts of type %s are not trusted now'
                   % ', '.join(in_cloud))
        else:
            why = 'this cloud has no host of type %s' % ', '.join(
                t['name'] for t in types)
        answer['message'] = ('No server in this cloud can satisfy %s: %s. '
                             'The instance would not be scheduled.'
                             % (request.describe(), why))
    return answer


def host_states():
    """Rows for the admin page: trust state, reason, last evidence time."""
    return sorted(host_rows(), key=lambda r: r.host)


# -- Instances -----------------------------------------------------------------

def host_id(host, project_id):
    """Nova's ``hostId`` of ``host`` for ``project_id``: lets the plugin find
    where a project's VM runs without the admin-only host attribute (and
    without showing the host name to the project)."""
    return hashlib.sha224((project_id + host).encode('utf-8')).hexdigest()


def server_host(server, rows):
    """The compute host of a Nova server, or None when it has none.

    ``server`` is a novaclient ``Server`` or Horizon's wrapper of one (which
    hides ``hostId``, hence the look underneath).
    """
    resource = getattr(server, '_apiresource', server)
    host = getattr(resource, 'OS-EXT-SRV-ATTR:host', None)
    if host:
        return host
    hashed = getattr(resource, 'hostId', None)
    project = getattr(resource, 'tenant_id', None)
    if not hashed or not project:
        return None
    for row in rows:
        if host_id(row.host, project) == hashed:
            return row.host
    return None


def compliance(server, flavor_extra_specs=None, rows=None):
    """``{'request', 'compliant', 'reason', 'errors'}`` for one Nova server.

    The request is the union of the flavor's extra specs and the server's
    metadata, read by the migration manager's own code; the verdict is the
    migration manager's (:func:`sod_nova.relocation.decision.assess`).
    """
    rows = host_rows() if rows is None else rows
    view = server_mod.ServerView(
        id=server.id, name=getattr(server, 'name', '') or '',
        status=getattr(server, 'status', ''),
        metadata=dict(getattr(server, 'metadata', None) or {}),
        flavor_extra_specs=dict(flavor_extra_specs or {}))
    effective = server_mod.effective_request(get_catalog(), view)
    result = {'request': effective.request.describe(),
              'errors': list(effective.errors)}
    if not effective.request:
        result.update(compliant=True, reason='')
        return result
    host = server_host(server, rows)
    if host is None:
        result.update(compliant=None,
                      reason='not running on any host (%s)' % view.status)
        return result
    # The host's name stays hidden from projects: say what, not where.
    verdict = decision.assess(effective.request, 'its host',
                              {r.host: r for r in rows}.get(host))
    result.update(compliant=verdict.compliant, reason=verdict.reason)
    return result


# -- Relocation ------------------------------------------------------------------

def _store():
    return relocation_db.RelocationStore(get_conf())


def paused_vms():
    """Tasks of VMs parked (paused, suspended, stopped) for want of a host."""
    return [t for t in _store().tasks_open() if t.state == triggers.PARKED]


def audit_trail(limit=50):
    """The newest ``limit`` audit entries (newest first) and whether the
    whole hash chain verifies, as ``sod-nova audit verify`` checks it."""
    rows = _store().audit_entries()
    broken = audit.verify(rows)
    entries = []
    for row in reversed(rows[-limit:] if limit else rows):
        data = row.data
        entries.append({'seq': row.seq,
                        'time': datetime.datetime.fromtimestamp(
                            data.get('at') or row.created_at, datetime.UTC),
                        'event': data.get('event', ''),
                        'vm': data.get('vm', ''),
                        'trigger': data.get('trigger', ''),
                        'source': data.get('from', ''),
                        'destination': data.get('to') or '',
                        'reason': data.get('reason') or data.get('outcome')
                        or ''})
    return entries, broken
