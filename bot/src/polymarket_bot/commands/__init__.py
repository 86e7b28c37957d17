"""The operator subcommands of `polymarket-bot` (each a short-lived process next to the trader):
backup, restore, monitor, severity, diagnose, dashboard, decisions, doctor and the wallet
commands. They read the state through `state.ReadOnlyStore` unless they exist to change it.
"""
