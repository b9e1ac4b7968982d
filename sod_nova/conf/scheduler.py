"""[sod_filter] options of the SecurityOnDemandFilter (it runs in nova-scheduler)."""

from oslo_config import cfg

from sod_nova.conf import deprecation
from sod_nova.conf import types

filter_group = cfg.OptGroup(
    'sod_filter',
    title='SecurityOnDemandFilter',
    help='The Nova scheduler filter that places a VM only on hosts whose '
         'verified capabilities satisfy its security request.')

filter_opts = deprecation.from_group('filter', [
    types.FiniteFloatOpt(
        'host_cache_seconds',
        default=1.0,
        min=0.0,
        max=3600.0,
        help="""
Seconds for which the filter reuses the host capability rows it read.

All rows are read in one query per scheduling request; this cache spares the
database when many requests arrive together (multi-create, many migrations).

Possible values:

* 0: read the rows on every scheduling request.
* A small number of seconds. A host that loses trust may still be chosen for
  this long; keep it well below ``[sod_trust] evidence_max_age``.

Related options:

* ``[sod_trust] evidence_max_age``
"""),
    cfg.BoolOpt(
        'record_rejections',
        default=True,
        help="""
Whether the filter keeps, per instance, why it passed no host (a malformed
policy, or which cells no trusted host meets and the closest architecture),
in sod-nova's database, so ``sod-nova`` commands can show it. The reason is
logged either way.
"""),
])


def register_opts(conf):
    conf.register_group(filter_group)
    conf.register_opts(filter_opts, group=filter_group)


def list_opts():
    return {filter_group: filter_opts}
