"""Re-encrypting every stored secret under the current (first) key.

Idempotent and resumable: a value already under the first key is skipped, so a run
that stopped half-way is simply run again. Each row is updated only if it still holds
the ciphertext that was read (compare-and-set), so a concurrent write is never undone.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from . import cipher
from .fields import EncryptedSecretField, SealedSecret


@dataclass
class RotationReport:
    rotated: int = 0
    already_current: int = 0
    changed_meanwhile: int = 0
    per_field: dict[str, int] = field(default_factory=dict)


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedSecretField]]:
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, EncryptedSecretField):
                yield model, model_field


def rotate_all(*, batch_size: int = 500) -> RotationReport:
    cipher.reset_keys()  # pick up the key list as it is now
    report = RotationReport()
    for model, model_field in encrypted_fields():
        name = model_field.attname
        label = f"{model._meta.label}.{name}"
        manager = model._base_manager
        last_pk = None
        while True:
            batch = manager.filter(**{f"{name}__isnull": False}).order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            rows = list(batch.values_list("pk", name)[:batch_size])
            if not rows:
                break
            for pk, sealed in rows:
                last_pk = pk
                if cipher.is_current(sealed.token):
                    report.already_current += 1
                    continue
                fresh = SealedSecret(cipher.rotate(sealed.token))
                updated = manager.filter(pk=pk, **{name: sealed}).update(**{name: fresh})
                if updated:
                    report.rotated += 1
                    report.per_field[label] = report.per_field.get(label, 0) + 1
                else:
                    report.changed_meanwhile += 1
    return report
