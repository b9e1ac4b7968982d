"""sod-nova: Security on Demand for OpenStack Nova.

Customers choose, per VM, which cloud entities they do not trust; servers prove
what they enforce through a trust monitor; a Nova scheduler filter places each
VM on a server that enforces its request and a migration manager keeps it so
for the VM's whole life.
"""
