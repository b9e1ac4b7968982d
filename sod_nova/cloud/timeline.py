"""Render a scenario result as a readable timeline (``sod-nova simulate``)."""

from sod_nova.cloud import invariants
from sod_nova.relocation import audit_events


def _event_text(step):
    kind, body = next(iter(step['event'].items()))
    host = step.get('host')
    if kind == 'change_security':
        sec = body['security']
        what = ', '.join('%s %s' % (k, v if not isinstance(v, list) else
                                    ','.join(map(str, v))) for k, v in sec.items())
        return "%s's customer changes its security to %s" % (body['vm'], what)
    if kind == 'add_host':
        return 'a new %s server %s joins' % (body['architecture'], body['name'])
    if kind == 'wait':
        waited = step.get('waited') or {}
        return '%g s of scenario time pass (%.1f s here)' % (
            body['seconds'], waited.get('real_s', 0.0))
    of = (' (the host of %s)' % body['host_of']) if 'host_of' in body else ''
    return {
        'attack': 'attack on %s%s',
        'recover': '%s%s recovers: clean evidence again',
        'silence': "%s%s's trust agent goes silent",
        'resume': "%s%s's trust agent reports again",
        'forge': 'someone on the bus sends a forged report (unenrolled key) for %s%s',
        'replay': 'someone on the bus replays an old report of %s%s',
        'forge_challenge': "someone on the bus sends %s%s's agent challenges "
                           'the monitor never issued, every report interval',
    }[kind] % (host, of) + (' for %g s' % body['seconds'] if 'seconds' in body
                            else '')


def _launched(vm):
    """``  launched as amd-sev-snp (memory-encrypted)`` for a VM launched
    with guest features, else nothing."""
    features = list(vm.get('guest') or ())
    if vm.get('memory_encrypted') and not features:
        features.append('memory-encrypted')
    return '  launched as %s' % ', '.join(features) if features else ''


def _ms(value):
    return '-' if value is None else '%d ms' % value


def render(result):
    """The result as lines of text."""
    out = []
    add = out.append
    hosts, vms = result['hosts'], result['vms']
    add('sod-nova simulate: %s  (%d hosts, %d VMs, %d events%s)' % (
        result['name'], len(hosts), len(vms), len(result['steps']),
        '' if result.get('relocation', True) else ', RELOCATION OFF'))
    add('')
    add('Servers (each proves its architecture to the trust monitor):')
    for name, h in hosts.items():
        offers = h.get('guest_features')
        add(('  %-14s %-12s' % (name, h['architecture'])) + (
            '  launches %s guests' % ', '.join(offers) if offers else ''))
    add('')
    add('Boot (Nova places each VM through SecurityOnDemandFilter):')
    for name, vm in vms.items():
        boot = result.get('boots', {}).get(name)
        if vm['status'] == 'REJECTED':
            add('  %-10s REJECTED: %s' % (name, vm['reason']))
        elif boot:
            add(('  %-10s -> %-14s %s (%.1f s)' % (
                name, boot['host'] or '-', boot['status'], boot['seconds']))
                + _launched(vm) + (': %s' % boot['reason'] if boot.get('reason') else ''))
    for i, step in enumerate(result['steps'], 1):
        add('')
        add('[%d] %s' % (i, _event_text(step)))
        for change in step['host_changes']:
            add('      %s: %s -> %s (%s)' % (change['host'], change['from'], change['to'],
                                            change['reason']))
        forged = step.get('challenges')
        if forged:
            add('      agent: %d bogus challenges dropped (%s); %s stays %s' % (
                sum(forged['dropped'].values()),
                ', '.join('%s %d' % kv for kv in forged['dropped'].items()),
                forged['host'], forged['state_after']))
        evidence = step.get('evidence')
        if evidence:
            add('      monitor: report rejected, not attributable to %s (%s); '
                'counted, %s challenged at once; %s stays %s' % (
                    evidence['host'], evidence['reason'], evidence['host'],
                    evidence['host'], evidence['state_after']))
        if step.get('note'):
            add('      %s' % step['note'])
        for m in step['migrations']:
            if m['ok']:
                down = ('; guest down %s: it restarts on its new host' % _ms(
                    m['downtime_ms']) if m.get('downtime_ms') is not None else '')
                add('      %-8s %s -> %s  %s migration, %s  (migrate called %s after '
                    'the event, moved in %s%s)' % (m['vm'], m['from'], m['to'], m['kind'],
                                                   m['trigger'], _ms(m['latency_ms']),
                                                   _ms(m['duration_ms']), down))
            else:
                add('      %-8s %s -> %s  %s migration FAILED, will retry elsewhere' % (
                    m['vm'], m['from'], m['to'], m['kind']))
        for d in step.get('decisions', []):
            if d.get('event') == audit_events.PARKED:
                add('      %-8s %s on %s: %s' % (d['vm'], d.get('action') or 'left running',
                                             d.get('from'), d.get('reason')))
            elif d.get('event') in (audit_events.RECOVERED, audit_events.RESUMED) and not any(
                    m['vm'] == d['vm'] for m in step['migrations']):
                add('      %-8s %s on %s: %s' % (d['vm'], d['event'], d.get('to'),
                                             d.get('outcome')))
        kind, body = next(iter(step['event'].items()))
        if kind == 'change_security' and not any(
                m['vm'] == body['vm'] for m in step['migrations']):
            vm = step['vms'][body['vm']]
            add('      %s stays on %s: %s' % (
                body['vm'], vm['host'], 'it still satisfies the request'
                if vm['compliant'] else 'NOT compliant'))
        previous = result['steps'][i - 2]['vms'] if i > 1 else None
        for name, vm in step['vms'].items():
            was = previous.get(name) if previous else None
            if previous is None or was != vm:
                if vm['status'] != 'REJECTED':
                    add('      %-8s now %-7s on %-14s %s' % (
                        name, vm['status'], vm['host'] or '-',
                        'compliant' if vm['compliant'] else 'NOT compliant'))
        add('      settled in %.2f s' % step['settled_s'])
    add('')
    add('Final state:')
    for name, h in hosts.items():
        add('  host %-14s %-12s %-11s %s' % (name, h['architecture'], h['state'],
                                             h['reason'] or ''))
    for name, vm in vms.items():
        add('  vm   %-14s %-9s %-14s %s%s' % (
            name, vm['status'], vm['host'] or '-',
            'compliant' if vm['compliant'] else 'not compliant',
            (': ' + vm['reason']) if vm['reason'] else ''))
    latencies = sorted(m['latency_ms'] for m in result['migrations']
                       if m.get('latency_ms') is not None)
    if latencies:
        add('')
        add('Reaction: %d migrations; trust or policy event -> Nova migrate call: '
            'median %d ms, max %d ms (the paper measured 2.33 s of OpenStack '
            'triggering delay)' % (len(latencies), latencies[len(latencies) // 2],
                                   latencies[-1]))
    problems = invariants.check_invariants(result)
    add('Invariants: %s' % ('all kept' if not problems else '; '.join(problems)))
    return '\n'.join(out)
