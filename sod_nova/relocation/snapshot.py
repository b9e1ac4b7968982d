"""What one pass of the migration manager reads once, and which VMs it may move.

A pass decides from one reading of the trust rows, judged at one time
(``now``, by the compliance rule), and from each server as Nova shows it
during the pass; every server
view read is also kept in the manager's inventory, from which the next trust
event decides before Nova's own listing of the host arrives.
"""

#: Statuses a VM may be moved from. A SUSPENDED VM only when the manager
#: suspended it (no-host action ``suspend``): a customer's stays as it is.
MOVABLE = ('ACTIVE', 'PAUSED', 'SHUTOFF')


def movable(server, task=None):
    return server.status in MOVABLE or (
        server.status == 'SUSPENDED' and task is not None
        and task.action == 'suspend')


class Snapshot:
    """What one pass reads once: trust rows, and servers as Nova shows them
    now (every view read is also kept in the manager's inventory)."""

    def __init__(self, compute, rows, now, inventory):
        self.compute = compute
        self.rows = list(rows)
        self.now = now
        self.by_host = {r.host: r for r in self.rows}
        self._servers = {}
        self._inventory = inventory

    def remember(self, server):
        self._servers[server.id] = server
        self._inventory[server.id] = server
        return server

    def server(self, vm):
        if vm not in self._servers:
            server = self.compute.server(vm)
            self._servers[vm] = server
            if server is None:
                self._inventory.pop(vm, None)
            else:
                self._inventory[vm] = server
        return self._servers[vm]

    def forget(self, vm):
        self._servers.pop(vm, None)
