"""The catalogue (Table III rows and packages) as the API shows it.

Each row says which guest it protects, as ``sod-nova catalog show`` does
(:func:`sod_nova.catalog.guest_fit.row_guest`).

See doc/source/contributor/api-and-cli.rst.
"""

from sod_nova.catalog import guest_fit
from sod_nova.conf import catalog as catalog_conf
from sod_nova.policy import entities


def load(conf):
    return catalog_conf.load_catalog(conf)


def architecture_view(catalog, arch):
    return {
        'name': arch.name,
        'kind': arch.kind,
        'reference': arch.reference,
        'protected_entity': arch.protected_entity,
        'row': arch.row(),
        'protects': _protects(catalog, arch),
        'guest': guest_fit.row_guest(catalog, arch),
        'why': {'%s/%s' % (e.label, p.name): text
                for (e, p), text in sorted(
                    arch.why.items(), key=lambda kv: (kv[0][0].option,
                                                      kv[0][1].name))},
    }


def _protects(catalog, arch):
    """The cells the architecture satisfies (for a guest launched for it,
    see ``guest``) under this deployment's rule for ``removed`` cells, as
    ``{entity: [C, I]}``."""
    mask = catalog.capability_mask(arch.name)
    return {e.label: [p.name for p in entities.PROPERTY_ORDER
                      if mask & entities.bit(e, p)]
            for e in entities.MATRIX_ORDER
            if any(mask & entities.bit(e, p) for p in entities.PROPERTY_ORDER)}


def package_views(catalog):
    return {name: {'matrix': request.matrix(), 'text': request.describe()}
            for name, request in sorted(catalog.packages.items())}
