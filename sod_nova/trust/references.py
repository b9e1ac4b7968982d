"""Boot reference values per architecture (``[sod_trust] reference_values_file``).

The monitor compares the PCRs a host quotes with these. Without a file, every
architecture's reference is the golden log the simulated backends boot; with
a file, only the architectures it lists can be trusted (fail closed).
"""

import json

import yaml

from sod_nova.trust import measurements


class References:
    """``expected(architecture)`` -> ``{pcr index: hex}`` or None."""

    def __init__(self, table=None):
        self._table = None if table is None else {
            name.lower(): pcrs for name, pcrs in table.items()}
        self._golden = {}   # computed once per architecture, not per report

    @classmethod
    def load(cls, path=None):
        if not path:
            return cls()
        with open(path) as f:
            text = f.read()
        try:
            data = json.loads(text) if path.endswith('.json') else yaml.safe_load(text)
        except ValueError as exc:
            raise ValueError('%s: %s' % (path, exc)) from None
        if not isinstance(data, dict):
            raise ValueError('%s: expected {architecture: {pcr: sha256 hex}}' % path)
        table = {}
        for arch, pcrs in data.items():
            if not isinstance(pcrs, dict) or not all(
                    str(i).isdigit() and isinstance(v, str) and len(v) == 64
                    for i, v in pcrs.items()):
                raise ValueError('%s: %s: expected {pcr index: sha256 hex}'
                                 % (path, arch))
            table[str(arch)] = {int(i): v.lower() for i, v in pcrs.items()}
        return cls(table)

    def expected(self, architecture):
        if self._table is None:
            key = architecture.lower()
            if key not in self._golden:
                self._golden[key] = measurements.reference_pcrs(architecture)
            return self._golden[key]
        return self._table.get(architecture.lower())
