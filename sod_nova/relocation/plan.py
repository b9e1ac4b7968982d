"""An evacuation plan: what the manager would do with a host's VMs, before
anything moves.

Per VM, as if the host stopped protecting anything now: whether it moves, by
which move of its ladder, to which hosts that protect it, or the no-host
action, and why; the mover's rule and ladder, with nothing written.
"""

from sod_nova import compliance
from sod_nova.catalog import guest as guest_mod
from sod_nova.relocation import compute as compute_mod
from sod_nova.relocation import ladder
from sod_nova.relocation import pass_state
from sod_nova.relocation import server as server_mod

MOVE = 'move'
PARK = 'park'
STAY = 'stay'

#: What each move does to the guest, for people reading the plan.
INTERRUPTION = {
    compute_mod.LIVE: 'none (live migration)',
    compute_mod.COLD: 'the guest is stopped and started on its new host',
}


def evacuation_plan(servers, host, catalog, rows, now, conf, tasks=None):
    """One entry per server of ``servers`` (ServerViews on ``host``);
    ``tasks``: the manager's open tasks by VM (a VM it parked moves as the
    mover would move it)."""
    tasks = tasks or {}
    rule = compliance.Rule(catalog)
    action = conf.sod_relocation.no_host_action
    plan = []
    for server in sorted(servers, key=lambda s: (s.name, s.id)):
        effective = server_mod.effective_request(catalog, server)
        entry = {'id': server.id, 'name': server.name,
                 'status': server.status,
                 'request': str(effective.request),
                 'guest': guest_mod.describe(effective.guest),
                 'outcome': STAY, 'move': None, 'candidates': [],
                 'no_host_action': None, 'interruption': 'none',
                 'reason': None}
        plan.append(entry)
        if not effective.request:
            entry['reason'] = 'no security request: sod-nova does not move it'
            continue
        task = tasks.get(server.id)
        if not pass_state.movable(server, task):
            entry['reason'] = ('Nova is not asked to move a %s VM'
                               % server.status)
            continue
        candidates = rule.hosts(effective, rows, now, exclude={host})
        parked = (compute_mod.NovaCompute.PARK[task.action][2]
                  if task is not None and task.action else None)
        kind, why = ladder.choose(server, effective, conf, parked)
        entry['candidates'] = candidates
        if candidates and kind is not None:
            entry.update(outcome=MOVE, move=kind,
                         interruption=INTERRUPTION[kind],
                         reason='%d host(s) protect it as launched'
                         % len(candidates))
            continue
        parked = ladder.park_action(server, action)
        entry.update(
            outcome=PARK, no_host_action=parked,
            interruption=('%s until a host protects it again' % parked
                          if parked != 'none' else 'none (left running, '
                          'not compliant)'),
            reason=(rule.no_host_reason(effective, rows, now, {host})
                    if not candidates else 'cannot move: %s' % why))
    return plan
