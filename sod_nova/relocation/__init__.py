"""Relocation mode: keep every VM on a server that satisfies it, for life.

The paper's step 4 (§III-A, §III-D) and moving-target defence (§III-E): when
a server stops satisfying a VM (trust loss, lost evidence) or the customer
changes the VM's request, the migration manager asks Nova to move the VM;
Nova's scheduler, with the SoD filter, chooses a compliant destination.
Whether a VM is compliant where it runs is the one compliance rule's
(:mod:`sod_nova.compliance`).

Modules, one job each:

* :mod:`.triggers` – the names of the causes of a move.
* :mod:`.server` – a VM as the manager sees it, read from Nova's API.
* :mod:`.ladder` – how a VM moves: its remediation ladder, as Nova allows
  it for the guest.
* :mod:`.planner` – which pending moves start now (order, bounds, backoff).
* :mod:`.moving_target` – when a compliant VM is due to move anyway.
* :mod:`.pass_state` – what one pass reads once; which VMs may be moved.
* :mod:`.compute` – the one code path to Nova (openstacksdk).
* :mod:`.decider` – whether a VM must move, and why: opens its task.
* :mod:`.mover` – starts a task's move through Nova: migrate, retry, park
  (pause), resume, finish.
* :mod:`.watcher` – follows the moves, pauses and resumes Nova carries out.
* :mod:`.manager` – the service object: triggers in, passes, ``start()``,
  ``stop()``.
* :mod:`.notifications` – oslo.messaging endpoints feeding the manager.
* :mod:`.service` – assembles a manager and its listener from the config.

The hash-chained audit trail and the tasks table are the database layer's
(:mod:`sod_nova.db.audit`, :mod:`sod_nova.db.relocation`); waiting until the
manager has settled is the embedded cloud's (:mod:`sod_nova.cloud.settle`).
"""
