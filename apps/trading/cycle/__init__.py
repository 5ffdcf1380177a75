"""The per-candle cycle: a closed candle fans out to one task per signal group
(strategy, version, parameters, symbol, interval); each computes the signal once and
then runs every subscribed account's evaluation under its lock.

- `fanout.py`: closed candle -> group tasks (one query, no per-account work).
- `signal.py`: candles (cache first, database fallback) -> the group's signal.
- `group.py`: one group's accounts in batches, exchange calls concurrent.
- `account_cycle.py`: one (account, config) evaluation, written as one Decision.
- `account_state.py`, `exits.py`, `entries.py`, `gates.py`, `positions.py`: its steps.
- `tasks.py`: the Celery task (thin).
"""
