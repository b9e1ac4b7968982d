"""YAML data files read with bounded time and memory, or refused in one line.

Operators' and users' files (catalogue, packages, scenarios, reference
values) are read bounded in size, without anchors or aliases, nesting or huge
integers; every refusal is :class:`YAMLFileError` naming the file and line
(why: ``doc/source/contributor/architecture-notes.rst``).
"""

import yaml
from yaml import composer
from yaml import constructor
from yaml import events

from sod_nova import exception

#: Largest integer magnitude a data file may hold (a signed 64-bit integer).
MAX_INT = 2 ** 63 - 1
#: Longest integer literal looked at (``MAX_INT`` has 19 digits; leave
#: room for signs, ``0x``/``0o``/``0b`` prefixes, underscores, zeros).
_MAX_INT_TEXT = 80
#: Default nesting limit: collections inside collections.
MAX_DEPTH = 32


class YAMLFileError(exception.SodNovaException, ValueError):
    """A data file that is not bounded, valid YAML; one line."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader without anchors and aliases, with a nesting limit and
    bounded integers."""

    max_depth = MAX_DEPTH

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, events.AliasEvent) or getattr(
                event, 'anchor', None) is not None:
            raise composer.ComposerError(
                None, None, 'anchors and aliases (&, *) are not allowed',
                event.start_mark)
        collection = isinstance(event, (events.SequenceStartEvent,
                                        events.MappingStartEvent))
        if collection:
            self._depth += 1
            if self._depth > self.max_depth:
                raise composer.ComposerError(
                    None, None, 'nested more than %d levels deep'
                    % self.max_depth, event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1

    def construct_yaml_int(self, node):
        if len(node.value) > _MAX_INT_TEXT:
            raise _too_large(node)
        value = super().construct_yaml_int(node)
        if abs(value) > MAX_INT:
            raise _too_large(node)
        return value


def _shown(text):
    return text if len(text) <= 20 else text[:20] + '...'


def _too_large(node):
    return constructor.ConstructorError(
        None, None, 'integer %s is out of range (at most %d in magnitude)'
        % (_shown(node.value), MAX_INT), node.start_mark)


_BoundedLoader.add_constructor('tag:yaml.org,2002:int',
                               _BoundedLoader.construct_yaml_int)


def load(text, source, max_depth=MAX_DEPTH):
    """The document in YAML ``text`` (from ``source``, named in errors)."""
    loader = None
    try:
        loader = _BoundedLoader(text)    # the reader checks the characters
        loader.max_depth = max_depth
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = '%s:%d' % (source, mark.line + 1) if mark else source
        problem = getattr(exc, 'problem', None) or str(exc)
        raise YAMLFileError('%s: not valid YAML: %s' % (
            where, ' '.join(problem.split()))) from None
    finally:
        if loader is not None:
            loader.dispose()


def read(path, max_bytes, max_depth=MAX_DEPTH):
    """The document in the YAML file at ``path``, read at most
    ``max_bytes`` (a bigger file is refused, never read whole)."""
    try:
        with open(path, 'rb') as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise YAMLFileError('%s: cannot read: %s' % (
            path, exc.strerror or exc)) from None
    if len(data) > max_bytes:
        raise YAMLFileError('%s: larger than the limit of %d bytes'
                            % (path, max_bytes))
    return load(decode(data, path), path, max_depth)


def decode(data, source):
    """``data`` as strict UTF-8 text, else :class:`YAMLFileError`."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise YAMLFileError('%s: not a UTF-8 text file (byte %d)'
                            % (source, exc.start)) from None
