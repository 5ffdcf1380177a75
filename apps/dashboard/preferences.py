"""Reading and saving a user's dashboard preferences (widget layout, onboarding tour).

Every save writes its audit event in the same transaction, like any other change."""

import re

from django.db import transaction
from django.utils import timezone

from apps.audit.services import diff, record_event
from apps.core.errors import ValidationError

from .models import DashboardPreferences, empty_layout

WIDGET_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_WIDGETS = 20


def preferences_for(user) -> dict:
    """What the pages need, without creating a row for users who never saved anything."""
    prefs = DashboardPreferences.objects.filter(user=user).first()
    if prefs is None:
        return {"layout": empty_layout(), "tour_pending": True}
    return {"layout": prefs.layout, "tour_pending": prefs.tour_completed_at is None}


def _widget_ids(value, field: str) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError(field, "must be a list of widget ids")
    if len(value) > MAX_WIDGETS:
        raise ValidationError(field, f"must list at most {MAX_WIDGETS} widgets")
    for item in value:
        if not isinstance(item, str) or not WIDGET_ID.match(item):
            raise ValidationError(field, "each widget id must be lowercase letters, digits, - or _")
    if len(set(value)) != len(value):
        raise ValidationError(field, "must not repeat a widget")
    return list(value)


def clean_layout(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("layout", "must be an object with order and hidden")
    unknown = set(data) - {"order", "hidden"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a layout field")
    return {
        "order": _widget_ids(data.get("order", []), "order"),
        "hidden": _widget_ids(data.get("hidden", []), "hidden"),
    }


def _locked_row(user) -> DashboardPreferences:
    DashboardPreferences.objects.get_or_create(user=user)
    return DashboardPreferences.objects.select_for_update().get(user=user)


def save_layout(user, data) -> DashboardPreferences:
    layout = clean_layout(data)  # before any write: bad input changes nothing
    with transaction.atomic():
        prefs = _locked_row(user)
        before = prefs.layout
        prefs.layout = layout
        prefs.save(update_fields=["layout", "updated_at"])
        record_event(
            action="dashboard.layout_saved",
            actor=user,
            target=prefs,
            changes=diff({"layout": before}, {"layout": layout}),
        )
    return prefs


def complete_tour(user) -> DashboardPreferences:
    """Idempotent: the first completion (or skip) is the one remembered."""
    with transaction.atomic():
        prefs = _locked_row(user)
        if prefs.tour_completed_at is None:
            prefs.tour_completed_at = timezone.now()
            prefs.save(update_fields=["tour_completed_at", "updated_at"])
            record_event(
                action="dashboard.tour_completed",
                actor=user,
                target=prefs,
                changes={"tour_completed_at": {"before": None, "after": prefs.tour_completed_at}},
            )
    return prefs


SESSION_LANGUAGE = "spotdesk_language"


def save_language(user, language: str) -> DashboardPreferences:
    """The user's language, kept for every device they log in from (seed item 94)."""
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        choices = ", ".join(code for code, _name in settings.LANGUAGES)
        raise ValidationError("language", f"must be one of {choices}")
    with transaction.atomic():
        prefs = _locked_row(user)
        if prefs.language != language:
            before = prefs.language
            prefs.language = language
            prefs.save(update_fields=["language", "updated_at"])
            record_event(
                action="dashboard.language_saved",
                actor=user,
                target=prefs,
                changes=diff({"language": before}, {"language": language}),
            )
    return prefs


def stored_language(user) -> str:
    return (
        DashboardPreferences.objects.filter(user=user).values_list("language", flat=True).first()
        or ""
    )
