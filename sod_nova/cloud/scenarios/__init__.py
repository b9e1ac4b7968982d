"""Built-in scenarios for ``sod-nova simulate`` (data files)."""
