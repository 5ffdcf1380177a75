"""Request parameters from the query string and the form body, with Binance's checks.

The query string wins over the body for a parameter sent in both; a parameter repeated
within one of them is -1101.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from urllib.parse import parse_qsl

from apps.paper_exchange import errors
from apps.paper_exchange.errors import DECIMAL_REGEX
from apps.paper_exchange.numbers import is_wire_decimal

INTEGER_REGEX = r"^-?[0-9]{1,20}$"
_INTEGER = re.compile(INTEGER_REGEX)
MAX_DECIMALS = 8


def _parse(raw: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        if name in values:
            raise errors.duplicate_parameter()
        values[name] = value
    return values


class Params:
    def __init__(self, raw_query: str, raw_body: str):
        self.raw_query = raw_query
        self.raw_body = raw_body
        merged = _parse(raw_body)
        merged.update(_parse(raw_query))
        self.values = merged

    def __contains__(self, name: str) -> bool:
        return self.values.get(name, "") != ""

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise errors.mandatory(name)
            return None
        return value

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        value = self.text(name, required)
        if value is None:
            return None
        if not is_wire_decimal(value):
            raise errors.illegal_chars(name, DECIMAL_REGEX)
        number = Decimal(value)
        if "." in value and len(value.split(".")[1].rstrip("0")) > MAX_DECIMALS:
            raise errors.too_much_precision(name)
        return number

    def integer(self, name: str, required: bool = False, minimum: int | None = None) -> int | None:
        value = self.text(name, required)
        if value is None:
            return None
        if not _INTEGER.fullmatch(value):
            raise errors.illegal_chars(name, INTEGER_REGEX)
        number = int(value)
        if minimum is not None and number < minimum:
            raise errors.invalid_parameter(name)
        return number

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise errors.invalid_parameter(name)
        return value.lower() == "true"

    def enum(self, name: str, allowed, error=None, required: bool = False) -> str | None:
        value = self.text(name, required)
        if value is None:
            return None
        if value not in allowed:
            raise error() if error else errors.invalid_parameter(name)
        return value

    def limit(self, default: int, maximum: int, name: str = "limit") -> int:
        value = self.integer(name)
        if value is None:
            return default
        if value <= 0:
            raise errors.invalid_parameter(name)
        return min(value, maximum)

    def symbol_list(self, name: str = "symbols") -> list[str] | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            items = json.loads(value)
        except ValueError:
            raise errors.invalid_parameter(name) from None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise errors.invalid_parameter(name)
        if len(set(items)) != len(items):
            raise errors.duplicate_symbols()
        return items
