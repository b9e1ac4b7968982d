"""Security on Demand for OpenStack's Dashboard (Horizon plugin of sod-nova)."""
