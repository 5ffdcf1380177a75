"""Routing by task module: the queue follows from where a task is defined."""

# First match wins: specific tasks before their module's rule.
QUEUE_BY_MODULE_PREFIX = (
    # Partition upkeep and archiving is long and never urgent: keep it off execution.
    ("apps.trading.tasks.maintain_partitions", "default"),
    ("apps.trading.", "execution"),
    ("apps.exchange.", "execution"),
    ("apps.backtest.", "backtest"),
)
DEFAULT_QUEUE = "default"


def queue_for_task(name: str) -> str:
    for prefix, queue in QUEUE_BY_MODULE_PREFIX:
        if name.startswith(prefix):
            return queue
    return DEFAULT_QUEUE


def route_by_module(name, args, kwargs, options, task=None, **kw):
    # An explicit queue= on apply_async wins (beat sends heartbeats to every queue).
    if options.get("queue"):
        return None
    return {"queue": queue_for_task(name)}
