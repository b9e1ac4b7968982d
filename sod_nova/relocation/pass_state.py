"""What one pass of the migration manager reads once, and passes down.

Trust rows and open tasks are read once, every host judged at one ``now``,
each VM read from Nova at most once and its request parsed once per view;
tasks the pass writes replace the ones it read.
See doc/source/contributor/migration-manager.rst.
"""

from sod_nova.relocation import server as server_mod
from sod_nova.relocation import triggers

#: Statuses a VM may be moved from. A SUSPENDED VM only when the manager
#: suspended it (no-host action ``suspend``): a customer's stays as it is.
MOVABLE = ('ACTIVE', 'PAUSED', 'SHUTOFF')


def movable(server, task=None):
    return server.status in MOVABLE or (
        server.status == 'SUSPENDED' and task is not None
        and task.action == 'suspend')


class PassState:
    """One pass's reading: trust rows, open tasks, servers, requests.

    ``context`` is the pass's database context (every write of the pass
    goes through it); ``rows`` the trust rows; ``tasks`` the open tasks by
    VM, kept current as the pass writes them (:meth:`track`).
    """

    def __init__(self, context, compute, catalog, rows, now, open_tasks,
                 inventory):
        self.context = context
        self.compute = compute
        self.catalog = catalog
        self.rows = list(rows)
        self.now = now
        self.by_host = {r.host: r for r in self.rows}
        self.tasks = {t.vm: t for t in open_tasks}
        #: Whether parked VMs got their look in this pass (a host became
        #: trusted, or a reconcile ran).
        self.parked_rechecked = False
        self._servers = {}
        self._inventory = inventory
        self._effective = {}
        self._considered = {}

    # Servers ---------------------------------------------------------------

    def remember(self, server):
        self._servers[server.id] = server
        self._inventory[server.id] = server
        return server

    def server(self, vm):
        """``vm`` as Nova shows it in this pass (read once), or None."""
        if vm not in self._servers:
            server = self.compute.server(vm)
            self._servers[vm] = server
            if server is None:
                self._inventory.pop(vm, None)
            else:
                self._inventory[vm] = server
        return self._servers[vm]

    def forget(self, vm):
        """Read ``vm`` again at its next look (Nova is changing it)."""
        self._servers.pop(vm, None)

    def effective(self, server):
        """``server``'s effective request, parsed once per view of it."""
        parsed = self._effective.get(server.id)
        if parsed is None or parsed[0] != server:
            parsed = (server, server_mod.effective_request(self.catalog,
                                                           server))
            self._effective[server.id] = parsed
        return parsed[1]

    def first_look(self, server):
        """False when the pass already decided on this very view of the
        VM (a trust event decides from the inventory, then Nova's listing
        of the host shows the same VMs): the same rows give the same
        decision."""
        if self._considered.get(server.id) == server:
            return False
        self._considered[server.id] = server
        return True

    # Tasks -----------------------------------------------------------------

    def track(self, task):
        """``task`` as written by the pass: the open tasks follow it."""
        if task.open:
            self.tasks[task.vm] = task
        elif self.tasks.get(task.vm, task).id == task.id:
            self.tasks.pop(task.vm, None)
        return task

    def open_tasks(self, *states):
        """The open tasks (in ``states``), oldest first."""
        return sorted((t for t in self.tasks.values()
                       if not states or t.state in states),
                      key=lambda t: t.id)

    def parked(self):
        return self.open_tasks(triggers.PARKED)
