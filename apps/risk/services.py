"""Writes for risk profiles: keyword-only, atomic, audited."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from apps.audit.services import record_event

from .engine import PRESETS
from .models import Preset, RiskProfile


@transaction.atomic
def create_risk_profile(
    *, name: str, preset: str = "balanced", overrides: dict | None = None, actor=None
) -> RiskProfile:
    """Create a profile from a preset, optionally overriding some settings.

    Raises django's ValidationError naming each bad field; nothing is saved then.
    """
    if preset not in PRESETS:
        raise ValidationError({"preset": _("Unknown preset %(name)s.") % {"name": preset}})
    profile = RiskProfile(name=name)
    profile.apply_preset(preset)
    for field, value in (overrides or {}).items():
        if field in ("id", "pk", "created_at", "updated_at", "preset"):
            raise ValidationError({field: _("This field cannot be set.")})
        try:
            profile._meta.get_field(field)
        except FieldDoesNotExist:
            raise ValidationError({field: _("Not a risk profile setting.")}) from None
        setattr(profile, field, value)
    if overrides:
        profile.preset = Preset.CUSTOM
    profile.full_clean()
    profile.save()
    record_event(
        action="risk_profile.created",
        actor=actor,
        target=profile,
        changes={"name": name, "preset": preset, "overrides": overrides or {}},
    )
    return profile


_FIXED = ("id", "pk", "created_at", "updated_at")


@transaction.atomic
def update_risk_profile(*, profile: RiskProfile, changes: dict, actor=None) -> RiskProfile:
    """Set some settings (and the name or preset label) of a profile; validated as a
    whole, audited with a field-level diff. Unchanged values write nothing."""
    profile = RiskProfile.objects.select_for_update().get(pk=profile.pk)
    before = {}
    for field, value in changes.items():
        if field in _FIXED:
            raise ValidationError({field: _("This field cannot be set.")})
        try:
            profile._meta.get_field(field)
        except FieldDoesNotExist:
            raise ValidationError({field: _("Not a risk profile setting.")}) from None
        before[field] = getattr(profile, field)
        setattr(profile, field, value)
    profile.full_clean()
    after = {field: getattr(profile, field) for field in before}
    changed = {f: {"before": before[f], "after": after[f]} for f in before if before[f] != after[f]}
    if not changed:
        return profile
    profile.save()
    record_event(action="risk_profile.updated", actor=actor, target=profile, changes=changed)
    return profile
