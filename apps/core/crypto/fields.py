"""A model field that stores only ciphertext and never hands out plaintext by accident.

Reading the field gives a `SealedSecret`; its text, repr and JSON form are masks.
Plaintext exists only for the duration of `reveal()`, called where the exchange client
is built. Assigning a plain string is refused, so nothing is stored unencrypted.
"""

from django.db import models

from apps.core.redaction import register_secret

from . import cipher


def mask(value: str, *, visible: int = 4) -> str:
    """`abcd…wxyz`: enough to recognise a key, never enough to use it."""
    if len(value) <= visible * 3:
        return "…"
    return f"{value[:visible]}…{value[-visible:]}"


class SealedSecret:
    """An encrypted value; `reveal()` is the only way to its plaintext."""

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    @classmethod
    def seal(cls, plaintext: str) -> "SealedSecret":
        register_secret(plaintext)  # masked in this process's logs from now on
        return cls(cipher.encrypt(plaintext))

    def reveal(self) -> str:
        return cipher.decrypt(self.token)

    def __repr__(self) -> str:
        return "SealedSecret(<encrypted>)"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, SealedSecret) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)


class EncryptedSecretField(models.TextField):
    """Fernet ciphertext in a text column; `rotate_encryption_keys` finds every one."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else SealedSecret(value)

    def to_python(self, value):
        if value is None or isinstance(value, SealedSecret):
            return value
        raise TypeError(f"{self.name}: assign SealedSecret.seal(plaintext), never a plain string")

    def get_prep_value(self, value):
        value = self.to_python(value)
        return None if value is None else value.token

    def value_to_string(self, obj) -> str:
        return ""  # serializers (dumpdata) never export a secret, not even encrypted
