"""Relocation mode: keep every VM on a server that satisfies it, for life.

The paper's step 4 (§III-A, §III-D) and moving-target defence (§III-E): when
a server stops satisfying a VM (trust loss, lost evidence) or the customer
changes the VM's request, the migration manager asks Nova to move the VM;
Nova's scheduler, with the SoD filter, chooses a compliant destination.

Modules, one job each:

* :mod:`.triggers` – the names of the causes of a move.
* :mod:`.server` – a VM as the manager sees it, read from Nova's API.
* :mod:`.decision` – is a VM compliant where it is, and if not, why.
* :mod:`.planner` – which pending moves start now (order, bounds, backoff).
* :mod:`.audit` – the hash chain over every decision.
* :mod:`.compute` – the one code path to Nova (openstacksdk).
* :mod:`.mover` – carries one task out through Nova: migrate, watch,
  retry, park (pause) and resume.
* :mod:`.manager` – the service object: triggers in, passes, ``start()``,
  ``stop()``, ``settle()``.
* :mod:`.notifications` – oslo.messaging endpoints feeding the manager.
* :mod:`.service` – assembles a manager and its listener from the config.
* :mod:`.migration_model` – the pre-copy model predicting evacuation times.
"""
