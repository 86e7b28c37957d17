"""What runs inside `polymarket-bot run` next to the engine: alerts, the /health and /metrics
endpoints, systemd notify and watchdog, Telegram control and the supervision of background tasks.

Nothing here imports `commands/` (the operator subcommands); they may use this package, e.g. to
send an alert or to ask the trader's health socket.
"""
