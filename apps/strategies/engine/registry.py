"""Strategy plug-ins: a module defining a Strategy subclass and registering it."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from .base import Strategy
from .errors import ParameterError


class StrategyRegistry:
    def __init__(self) -> None:
        self._classes: dict[str, type[Strategy]] = {}

    def register(self, cls: type[Strategy]) -> type[Strategy]:
        """Class decorator. A key can be registered once; re-importing the same class
        is harmless."""
        for attr in ("key", "version", "name", "schema"):
            if not getattr(cls, attr, None):
                raise TypeError(f"{cls.__name__} must define {attr!r} to be registered")
        existing = self._classes.get(cls.key)
        if existing is not None and _identity(existing) != _identity(cls):
            raise ValueError(f"strategy key {cls.key!r} is already used by {existing!r}")
        self._classes[cls.key] = cls
        return cls

    def get(self, key: str) -> type[Strategy]:
        try:
            return self._classes[key]
        except KeyError:
            known = ", ".join(sorted(self._classes)) or "none"
            raise ParameterError("strategy", f"unknown strategy {key!r} (known: {known})") from None

    def create(self, key: str, params: Mapping[str, Any] | None = None) -> Strategy:
        return self.get(key)(params)

    def keys(self) -> list[str]:
        return sorted(self._classes)

    def describe(self) -> list[dict[str, Any]]:
        """Key, version, name, docs and parameter schema of every strategy (for the API)."""
        return [
            {
                "key": cls.key,
                "version": cls.version,
                "name": cls.name,
                "description": (cls.__doc__ or "").strip(),
                "parameters": cls.schema.json_schema(),
            }
            for cls in (self._classes[k] for k in self.keys())
        ]

    def load_plugins(self, modules: Iterable[str]) -> None:
        """Import plug-in modules by dotted path; importing them registers them."""
        for module in modules:
            importlib.import_module(module)


def _identity(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


registry = StrategyRegistry()
register = registry.register
