"""Shipped data files: the Table III catalogue and the security packages."""
