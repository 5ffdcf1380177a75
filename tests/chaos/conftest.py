"""The soak's fixture: the paper exchange trading tests share (a suite worker that takes
one of the soak's tasks reaches the right exchange), its market synced into the
database, the soak's processes, and the faults cleared whatever happens."""

from __future__ import annotations

import pytest

from tests.support.processes import database_url_for

from .harness import Soak
from .processes import Fleet
from .schedule import SoakSize, make_schedule
from .world import build_world


@pytest.fixture
def run_soak(paper_market, exchange_admin, django_db_blocker):
    """run(size) -> the SoakReport of a full soak of that size (printed as it ends)."""
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = database_url_for(connection.settings_dict)
    fleets = []

    def run(size: SoakSize):
        fleet = Fleet(database_url, paper_market.url)
        fleets.append(fleet)
        world = build_world(exchange_admin, accounts=size.accounts, strategies=size.strategies)
        soak = Soak(world=world, fleet=fleet, admin=exchange_admin, size=size,
                    schedule=make_schedule(size))  # fmt: skip
        soak.start()
        soak.run()
        report = soak.check()
        print("\n" + report.summary())
        return report

    yield run
    for fleet in fleets:
        fleet.stop_all()
    session = exchange_admin.session
    session.delete(f"{exchange_admin.url}/admin/faults", timeout=10).raise_for_status()
