"""Secrets generated once for the embedded default and kept under var/.

Only the local settings use this: production must be given its secrets.
"""

import base64
import os
import secrets
from pathlib import Path


def _generate(kind: str) -> str:
    if kind == "fernet":
        return base64.urlsafe_b64encode(os.urandom(32)).decode()
    return secrets.token_urlsafe(50)


def persistent_local_secret(path: Path, *, kind: str) -> str:
    """Read the secret at `path`, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = _generate(kind)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
