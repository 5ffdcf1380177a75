"""Errors of the pure engines. No Django here: the web layer maps them to its own."""


class EngineError(Exception):
    """Base class for errors raised by the strategy and risk engines."""


class ParameterError(EngineError, ValueError):
    """A parameter broke a rule. Names the field and the rule so users can fix it."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class ParameterErrors(EngineError, ValueError):
    """Several parameters broke rules at once; ``errors`` lists each of them."""

    def __init__(self, errors: list[ParameterError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    def as_dict(self) -> dict[str, str]:
        return {e.field: e.rule for e in self.errors}
