"""Configuration backup: export to versioned JSON and import it back (validated, diffed,
applied in one transaction through the domain services, or not at all)."""

from .document import FORMAT_VERSION
from .exporter import export_configuration
from .importer import ConfigImportError, ImportResult, import_configuration

__all__ = [
    "FORMAT_VERSION",
    "ConfigImportError",
    "ImportResult",
    "export_configuration",
    "import_configuration",
]
