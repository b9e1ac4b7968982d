"""``python -m benchmarks [NAME ...] [--format text|json]``: run the benchmarks.

Each benchmark module has ``run() -> dict`` with the keys ``name, value, unit,
baseline, ratio, goal, met`` (and optional ``detail``). Exit 0 when every goal
that ran was met, 1 otherwise, 2 for an unknown name.
"""

import argparse
import importlib
import json
import sys

from sod_nova.cloud import _bootstrap

# Before any benchmark imports oslo.messaging: the embedded Nova of the
# end-to-end benchmarks runs on native threads (sod_nova.cloud._bootstrap).
_bootstrap.select_concurrency_mode()

#: Benchmark name -> module in this package, in the order they run.
BENCHMARKS = {
    'migration-model': 'benchmarks.migration_model',
    'filter': 'benchmarks.filter',
    'trust-verify': 'benchmarks.trust_verify',
    'trust-monitor': 'benchmarks.trust_monitor',
    'trust-flood': 'benchmarks.trust_flood',
    'tpm-quote': 'benchmarks.tpm_quote',
    'trust-detection': 'benchmarks.trust_detection',
    'relocation-trigger': 'benchmarks.relocation_latency',
    'reaction': 'benchmarks.reaction',
    'embedded-idle': 'benchmarks.embedded_idle',
    'paper-scenario': 'benchmarks.paper_scenario',
    'trait-prefilter': 'benchmarks.trait_prefilter',
    'reaction-rabbit': 'benchmarks.reaction_rabbit',
    'monitor-mariadb': 'benchmarks.monitor_mariadb',
    'compliance-report': 'benchmarks.compliance_report',
    'trust-scale': 'benchmarks.trust_scale',
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m benchmarks', description=__doc__)
    parser.add_argument('names', nargs='*', metavar='NAME',
                        help='benchmarks to run (default: all): %s' % ', '.join(BENCHMARKS))
    parser.add_argument('--format', choices=('text', 'json'), default='text')
    args = parser.parse_args(argv)
    names = [n for n in args.names if n != 'all'] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.exit(2, '%s: %s is not a benchmark (one of: %s)\n' % (
            parser.prog, unknown[0], ', '.join(BENCHMARKS)))
    results = [importlib.import_module(BENCHMARKS[n]).run() for n in names]
    if args.format == 'json':
        print(json.dumps(results if len(results) > 1 else results[0], indent=2,
                         ensure_ascii=False))
    else:
        for r in results:
            print('%-16s %12.4g %-8s baseline %-10.4g ratio %-8.3g goal %-28s %s' % (
                r['name'], r['value'], r['unit'], r['baseline'], r['ratio'], r['goal'],
                'met' if r['met'] else 'NOT MET'))
    return 0 if all(r['met'] for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
