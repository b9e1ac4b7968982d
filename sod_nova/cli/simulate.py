"""``sod-nova simulate [FILE] [--format text|json]``: run a scenario on the embedded cloud.

With no file, the built-in paper scenario. Exit 0 when the scenario ran
(whatever it found), 2 for a bad file or argument, 1 for an internal failure.
The embedded cloud (``sod_nova.cloud``) is imported only when the command
runs: no other ``sod-nova`` command loads the simulator.
"""

import json

from cliff import command
from oslo_log import log as logging

from sod_nova.cli import base

LOG = logging.getLogger(__name__)


def _flatten(exc):
    """One line for an exception, including the first of a MultipleExceptions."""
    inner = getattr(exc, 'args', None)
    if inner and isinstance(inner[0], tuple) and len(inner[0]) == 3:
        exc = inner[0][1]  # fixtures/testtools: (type, value, traceback) tuples
    return ' '.join(str(exc).split()) or repr(exc)


class Simulate(base.BadInputExits2, command.Command):
    """Run a scenario on real Nova services in-process and show what happened."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('file', nargs='?', metavar='FILE',
                            help='scenario YAML file (default: the paper scenario)')
        parser.add_argument('--format', choices=('text', 'json'), default='text',
                            help='a readable timeline (default) or the JSON result')
        parser.add_argument('--no-relocation', action='store_true',
                            help='run without the migration manager, to see what '
                                 'relocation mode prevents')
        parser.add_argument('--tpm-hosts', choices=('auto', 'swtpm', 'simulated'),
                            default='auto',
                            help='TPM hosts on their own swtpm with the real tpm '
                                 'backend, or on a software PCR bank (default '
                                 'auto: swtpm when swtpm and tpm2-pytss are '
                                 'installed)')
        base.add_catalog_args(parser)
        return parser

    def take_action(self, parsed_args):
        from sod_nova import cloud
        from sod_nova.cloud import scenario as scenario_mod

        catalog = base.catalog_from_args(self.app, parsed_args)

        def known(name):
            arch = catalog.get(name)
            return arch.name if arch else None

        try:
            # Checked whole before any service starts.
            scenario = scenario_mod.load_file(parsed_args.file, known)
        except scenario_mod.ScenarioError as exc:
            raise base.InputError(str(exc)) from None
        absent = cloud.missing()
        if absent:
            raise base.InputError(
                'simulate runs the embedded cloud, which is not installed (no module '
                '%s): %s' % (', '.join(absent), cloud.INSTALL_HINT))
        # Importing the runner starts nothing; it loads Nova (a second or so).
        try:
            from sod_nova.cloud import runner
            from sod_nova.cloud import timeline
            from sod_nova.cloud import tpm_hosts
        except ModuleNotFoundError as exc:  # a partial install: say what to add
            raise base.InputError(
                'simulate runs the embedded cloud, which is not fully installed (no '
                'module %s): %s' % (exc.name, cloud.INSTALL_HINT)) from None
        if parsed_args.tpm_hosts == 'swtpm' and not tpm_hosts.available():
            raise base.InputError('--tpm-hosts swtpm needs swtpm and tpm2-pytss '
                                  '(%s)' % tpm_hosts.tpm_backend.INSTALL_HINT)

        def progress(message):
            if parsed_args.format == 'text':
                self.app.stderr.write('... %s\n' % message)
                self.app.stderr.flush()

        # The embedded cloud parses the global configuration itself, as
        # Nova's services do: hand the catalogue over as overrides.
        overrides = {('sod_catalog', name): self.app.conf.sod_catalog[name] for name in (
            'architectures_file', 'packages_file', 'removed_counts_as_protected')}
        self.app.conf.clear()
        try:
            result = runner.ScenarioRunner(
                scenario, relocation=not parsed_args.no_relocation,
                progress=progress, conf_overrides=overrides,
                tpm_hosts=parsed_args.tpm_hosts).run()
        except Exception as exc:  # exit 1 with what failed, never a bare traceback
            LOG.debug('the scenario run failed', exc_info=True)
            self.app.stderr.write('%s: internal failure while running %s: %s: %s '
                                  '(--debug shows the traceback)\n' % (
                                      self.app.NAME, scenario.name,
                                      type(exc).__name__, _flatten(exc)))
            return 1
        if parsed_args.format == 'json':
            self.app.stdout.write(json.dumps(result, indent=2, sort_keys=False) + '\n')
        else:
            self.app.stdout.write(timeline.render(result) + '\n')
        return 0
