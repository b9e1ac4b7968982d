"""``sod-nova`` subcommands (cliff commands, entry points ``sod_nova.cli``)."""
