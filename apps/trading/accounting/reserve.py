"""The unmanaged reserve: what an account holds beyond Spotdesk's positions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

ZERO = Decimal(0)


def unmanaged_reserve(
    balances: Mapping[str, Decimal], attributed: Iterable[tuple[str, Decimal]]
) -> dict[str, Decimal]:
    """Per asset: balance (free + locked) minus what positions and dust attribute.

    `attributed` lists (asset, quantity) for every position and dust lot. A negative
    value means the positions claim more than the exchange holds: a reconciliation
    difference to flag, never something to sell.
    """
    claimed: dict[str, Decimal] = {}
    for asset, quantity in attributed:
        claimed[asset] = claimed.get(asset, ZERO) + quantity
    assets = set(balances) | set(claimed)
    return {a: balances.get(a, ZERO) - claimed.get(a, ZERO) for a in sorted(assets)}


def max_sell(*, position: Decimal, balance: Decimal, other_positions: Decimal) -> Decimal:
    """The most a strategy may sell of its position: never more than the position, and
    never more than the balance left after the other positions' claims, so that a
    shortfall falls on the position that has it and the reserve is never sold."""
    return max(ZERO, min(position, balance - other_positions))
