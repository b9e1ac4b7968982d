"""What the commands share: the client, and values for every formatter."""

import json

from cliff import columns


def client(cmd):
    return cmd.app.client_manager.security_on_demand


class MatrixColumn(columns.FormattableColumn):
    """``{entity: [C, I]}``: one line for a table, the dict for json/yaml."""

    def human_readable(self):
        if not self._value:
            return '-'
        return '  '.join('%s:%s' % (e, ''.join(p))
                         for e, p in self._value.items())

    def machine_readable(self):
        return self._value


class ListColumn(columns.FormattableColumn):
    def human_readable(self):
        return ', '.join(str(v) for v in self._value or ()) or '-'

    def machine_readable(self):
        return list(self._value or ())


class JsonColumn(columns.FormattableColumn):
    """Nested data: compact JSON for a table, the value for json/yaml."""

    def human_readable(self):
        if self._value in (None, {}, []):
            return '-'
        return json.dumps(self._value, sort_keys=True)

    def machine_readable(self):
        return self._value
