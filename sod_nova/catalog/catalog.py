"""Match a Security Request (Table II row) against the catalogue (Table III).

Which architectures satisfy a request, for the guest a VM is launched as
where known, and when none does, why not: the unmet cells and the closest
rows. Design: doc/source/contributor/catalogue-and-client.rst.
"""

from sod_nova.catalog import guest as guest_mod
from sod_nova.catalog import loader
from sod_nova.policy import parse


class Catalog:
    """The architecture rows and security packages an operator runs with."""

    def __init__(self, architectures, packages, removed_counts_as_protected=False):
        self.architectures = tuple(architectures)
        self.packages = dict(packages)
        self.removed_counts_as_protected = removed_counts_as_protected
        self._by_lower = {a.name.lower(): a for a in self.architectures}
        self._masks = {a.name: a.capability_mask(removed_counts_as_protected)
                       for a in self.architectures}

    @classmethod
    def load(cls, architectures_file=None, packages_file=None,
             removed_counts_as_protected=False):
        """Load from files (the shipped data where a path is None)."""
        return cls(loader.load_architectures(architectures_file),
                   loader.load_packages(packages_file),
                   removed_counts_as_protected)

    def get(self, name):
        """The architecture called ``name`` (case-insensitive) or None."""
        return self._by_lower.get(str(name).strip().lower())

    def names(self):
        return [a.name for a in self.architectures]

    def capability_mask(self, name, guest=None):
        """The cells architecture ``name`` satisfies (for a guest with launch
        features ``guest``, where given); 0 for an unknown name."""
        arch = self.get(name)
        return self._mask(arch, guest) if arch else 0

    def _mask(self, arch, guest):
        mask = self._masks[arch.name]
        return mask if guest is None else mask & arch.guest_mask(guest)

    def guest_notes(self, names=None):
        """``{name: note}`` of the rows (among ``names``) that protect only a
        guest launched for them (:meth:`Architecture.guest_note`)."""
        return {a.name: a.guest_note(self.removed_counts_as_protected)
                for a in self._candidates(names) if a.guest is not None}

    def _candidates(self, names):
        if names is None:
            return self.architectures
        wanted = {str(n).lower() for n in names}
        return tuple(a for a in self.architectures if a.name.lower() in wanted)

    def satisfying(self, request, names=None, guest=None):
        """Names of the architectures (among ``names``) that satisfy ``request``."""
        return sorted(a.name for a in self._candidates(names)
                      if request.satisfied_by(self._mask(a, guest)))

    def closest(self, request, names=None, guest=None):
        """``(unmet_count, [(name, unmet request)])`` for the nearest misses."""
        scored = [(bin(request.unmet(self._mask(a, guest)).mask).count('1'), a)
                  for a in self._candidates(names)]
        if not scored:
            return 0, []
        best = min(score for score, _ in scored)
        return best, [(a.name, request.unmet(self._mask(a, guest)))
                      for score, a in scored if score == best]

    def explain(self, request, names=None, guest=None):
        """None when some architecture satisfies ``request``; else why not.

        Names the cells that no candidate protects at all, then the closest
        architectures and what each still lacks.
        """
        if not request or self.satisfying(request, names, guest):
            return None
        candidates = self._candidates(names)
        if not candidates:
            return 'no server architecture is available to satisfy %s' % request
        anywhere = 0
        for a in candidates:
            anywhere |= self._mask(a, guest)
        parts = []
        nowhere = request.unmet(anywhere)
        if nowhere:
            parts.append('no architecture %s protects %s' % (
                'in the catalogue' if names is None else 'available', nowhere))
        count, near = self.closest(request, names, guest)
        lacks = {unmet for _, unmet in near}
        if len(lacks) == 1:
            parts.append('closest: %s (%s %s)' % (
                ', '.join(name for name, _ in near),
                'lacks' if len(near) == 1 else 'each lacks', lacks.pop()))
        else:
            parts.append('closest, %d unmet cell%s each: %s' % (
                count, '' if count == 1 else 's',
                '; '.join('%s lacks %s' % (n, u) for n, u in near)))
        if guest is not None:
            # Rows that would satisfy it for a guest launched for them.
            for a in candidates:
                if (a.guest is not None and a.guest.feature not in guest
                        and request.satisfied_by(self._masks[a.name])):
                    parts.append('%s; this VM is %s' % (
                        a.guest.describe(a.name, request.mask & self._masks[a.name]),
                        guest_mod.describe(guest)))
        return '; '.join(parts)


def request_for(catalog, mapping, prefix='sod:'):
    """Parse ``mapping`` into a request with this catalogue's packages."""
    return parse.parse_request(mapping, catalog.packages, prefix)

