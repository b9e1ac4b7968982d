"""Shipped data files: the Table III catalogue, the security packages and
the JSON Schema of each."""
