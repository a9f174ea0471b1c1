"""Subcommands of the ``pricestream`` CLI, one module each."""
