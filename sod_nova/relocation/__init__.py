"""Relocation mode: keep every VM on a server that satisfies it, for life.

The paper's step 4 and moving-target defence (§III-A, §III-D, §III-E): when
a server stops satisfying a VM, or the VM's request changes, the migration
manager asks Nova to move it; Nova's scheduler, with the SoD filter, chooses
the destination. Its modules: doc/source/contributor/migration-manager.rst.
"""
