"""Saving notification routes: permission, validation, encryption, audit in one place."""

from django.db import transaction

from apps.accounts.actors import Actor, require_step_up
from apps.accounts.roles import Action
from apps.accounts.scoping import has_cross_organization_access
from apps.audit.services import record_event
from apps.core.crypto.fields import SealedSecret, mask
from apps.core.errors import PermissionDenied, ValidationError

from ..models import Channel, NotificationRoute, Severity
from .channels import check_public_url, check_url

FIELDS = ("organization", "name", "channel", "min_severity", "events", "target", "enabled")
SECRET_REQUIRED = {Channel.TELEGRAM, Channel.SLACK, Channel.DISCORD, Channel.WEBHOOK}


def _may_manage(actor: Actor, organization) -> bool:
    if actor.system:
        return True
    if organization is None:  # platform routes: staff who manage every organization
        return has_cross_organization_access(actor.user, Action.MANAGE)
    from apps.accounts.models import Organization

    return (
        Organization.objects.for_user(actor.user, Action.MANAGE).filter(pk=organization.pk).exists()
    )


def _validate(route: NotificationRoute, secret: str | None) -> None:
    if route.channel not in Channel.values:
        raise ValidationError("channel", f"must be one of {', '.join(Channel.values)}")
    if route.min_severity not in Severity.values:
        raise ValidationError("min_severity", f"must be one of {', '.join(Severity.values)}")
    if not isinstance(route.events, list) or not all(isinstance(e, str) for e in route.events):
        raise ValidationError("events", "must be a list of event names")
    if not isinstance(route.target, dict):
        raise ValidationError("target", "must be an object")
    has_secret = bool(secret) or route.secret is not None
    if route.channel in SECRET_REQUIRED and not has_secret:
        raise ValidationError("secret", "this channel needs a secret")
    if route.channel == Channel.TELEGRAM and not str(route.target.get("chat_id", "")).strip():
        raise ValidationError("target", 'Telegram needs {"chat_id": ...}')
    if route.channel == Channel.EMAIL and not route.target.get("recipients"):
        raise ValidationError("target", 'e-mail needs {"recipients": [...]}')
    # Platform routes are set up by platform staff; an organization's may not aim inward.
    check = check_url if route.organization_id is None else check_public_url
    if route.channel == Channel.WEBHOOK:
        check("target", route.target.get("url", ""))
    if route.channel in (Channel.SLACK, Channel.DISCORD) and secret:
        check("secret", secret)


def save_route(*, actor: Actor, route: NotificationRoute, data: dict, secret: str | None = None):
    """Create or change a route; `secret` replaces the stored one when given."""
    previous_org = route.organization if route.pk else None
    previous_target = dict(route.target or {}) if route.pk else None
    for name in FIELDS:
        if name in data:
            setattr(route, name, data[name])
    if not _may_manage(actor, route.organization) or (
        previous_org is not None and not _may_manage(actor, previous_org)
    ):
        raise PermissionDenied("You may not manage notification routes of this organization.")
    _validate(route, secret)
    if secret or route.target != previous_target:
        # Where an organization's alerts go is sensitive: a fresh second factor.
        require_step_up(actor, what="Changing where notifications are sent")
    with transaction.atomic():
        if secret:
            route.secret = SealedSecret.seal(secret)
            route.secret_mask = mask(secret)
        created = route.pk is None
        route.save()
        record_event(
            action="notification_route.created" if created else "notification_route.changed",
            actor=actor.user,
            organization_id=route.organization_id,
            target=route,
            changes={
                "name": route.name,
                "channel": route.channel,
                "min_severity": route.min_severity,
                "events": route.events,
                "enabled": route.enabled,
                "secret_changed": bool(secret),
            },
        )
    return route
