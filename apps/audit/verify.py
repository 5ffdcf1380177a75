"""Verifying hash chains: recompute every link and report the first broken one."""

from dataclasses import dataclass

from .chain import compute_hash
from .models import GENESIS_HASH, AuditChainHead, AuditEvent, chain_for


@dataclass(frozen=True)
class ChainReport:
    chain: str
    checked: int
    broken_sequence: int | None = None
    broken_event_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_sequence is None and not self.reason


def verify_chain(chain: str) -> ChainReport:
    head = AuditChainHead.objects.filter(chain=chain).first()
    expected_sequence = (head.anchor_sequence if head else 0) + 1
    expected_previous = head.anchor_hash if head else GENESIS_HASH
    checked = 0
    events = AuditEvent.objects.filter(chain=chain, sequence__gte=expected_sequence)
    for event in events.order_by("sequence").iterator(chunk_size=2000):
        checked += 1
        problem = ""
        if event.sequence != expected_sequence:
            problem = f"expected sequence {expected_sequence}, found {event.sequence}"
        elif event.previous_hash != expected_previous:
            problem = "previous hash does not match the preceding event"
        elif compute_hash(event) != event.hash:
            problem = "content does not match its hash (the row was altered)"
        if problem:
            return ChainReport(chain, checked, expected_sequence, event.pk, problem)
        expected_sequence += 1
        expected_previous = event.hash
    last_sequence = expected_sequence - 1
    if head and (head.last_sequence != last_sequence or head.last_hash != expected_previous):
        return ChainReport(
            chain,
            checked,
            last_sequence + 1,
            None,
            f"the chain head expects {head.last_sequence} events, the last found is "
            f"{last_sequence} (events were removed)",
        )
    return ChainReport(chain, checked)


def all_chains() -> list[str]:
    heads = set(AuditChainHead.objects.values_list("chain", flat=True))
    events = set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    return sorted(heads | events)


def verify_chains(
    organization_id: int | None = None, *, platform: bool = False
) -> list[ChainReport]:
    if organization_id is not None:
        return [verify_chain(chain_for(organization_id))]
    if platform:
        return [verify_chain(chain_for(None))]
    return [verify_chain(chain) for chain in all_chains()]
