"""atheris (libFuzzer for Python) on the paper exchange's request parser.

Run directly: `.venv/bin/python tests/fuzz/atheris_paper_params.py -runs=100000`
(any libFuzzer flag works; `-seed=N` makes a run reproducible). A crash prints the
input and exits non-zero; tests/fuzz/test_paper_exchange_params.py runs a short
seeded campaign inside the normal test suite.
"""

import os
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

with atheris.instrument_imports(include=["apps.paper_exchange"]):
    from apps.paper_exchange.server import order_params, params  # noqa: F401

from tests.fuzz.paper_params_target import check_parse


def one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    which = provider.ConsumeIntInRange(0, 2)
    query = provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 200))
    body = provider.ConsumeUnicodeNoSurrogates(provider.remaining_bytes())
    check_parse(query, body, which)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
