"""Boot reference values per architecture (``[sod_trust] reference_values_file``).

The monitor compares the PCRs a host quotes with these. Without a file, every
architecture's reference is the golden log the simulated backends boot; with
a file, only the architectures it lists can be trusted (fail closed).
"""

import string

from sod_nova import yamlfile
from sod_nova.trust import measurements

#: Largest reference values file read.
MAX_FILE_BYTES = 1024 * 1024


class References:
    """``expected(architecture)`` -> ``{pcr index: hex}`` or None."""

    def __init__(self, table=None):
        self._table = None if table is None else {
            name.lower(): pcrs for name, pcrs in table.items()}
        self._golden = {}   # computed once per architecture, not per report

    @classmethod
    def load(cls, path=None):
        """The table in YAML (or JSON, which reads as YAML) file ``path``;
        :class:`ValueError` in one line for a file that is not one."""
        if not path:
            return cls()
        data = yamlfile.read(path, MAX_FILE_BYTES)
        if not isinstance(data, dict):
            raise ValueError('%s: expected {architecture: {pcr: sha256 hex}}' % path)
        table = {}
        for arch, pcrs in data.items():
            if not isinstance(pcrs, dict) or not all(
                    _pcr_index(i) and isinstance(v, str) and len(v) == 64
                    and set(v) <= set(string.hexdigits)
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


def _pcr_index(value):
    """True for a PCR index (0-99) as YAML or JSON writes one."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= 99
    return (isinstance(value, str) and value.isascii() and value.isdigit()
            and len(value) <= 2)
