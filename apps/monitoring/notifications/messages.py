"""What a notification says: one text for chat channels, one JSON for webhooks."""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import conf


@dataclass(frozen=True)
class Message:
    delivery_id: int | None
    severity: str
    event: str
    text: str
    count: int = 1
    organization: str = ""
    organization_id: int | None = None
    alert_id: int | None = None
    created_at: str = ""
    context: dict = field(default_factory=dict)

    @property
    def subject(self) -> str:
        where = f" · {self.organization}" if self.organization else ""
        return f"[{conf.site_name()}] {self.severity.upper()} {self.event}{where}"

    def as_text(self) -> str:
        lines = [self.subject, self.text]
        if self.count > 1:
            lines.append(
                ngettext(
                    "%(count)d alert of this kind since the last message.",
                    "%(count)d alerts of this kind since the last message.",
                    self.count,
                )
                % {"count": self.count}
            )
        return "\n".join(lines)

    def as_payload(self) -> dict:
        return {
            "delivery_id": self.delivery_id,
            "alert_id": self.alert_id,
            "severity": self.severity,
            "event": self.event,
            "message": self.text,
            "count": self.count,
            "organization_id": self.organization_id,
            "organization": self.organization,
            "created_at": self.created_at,
            "context": self.context,
        }


def for_delivery(delivery) -> Message:
    alert = delivery.alert
    if alert is None:
        return sample_message(delivery.route, delivery_id=delivery.pk)
    organization = alert.organization
    return Message(
        delivery_id=delivery.pk,
        severity=alert.severity,
        event=alert.event,
        text=alert.message,
        count=delivery.count,
        organization=organization.name if organization else "",
        organization_id=organization.pk if organization else None,
        alert_id=alert.pk,
        created_at=alert.created_at.isoformat(),
        context=alert.context,
    )


def sample_message(route, *, delivery_id: int | None = None) -> Message:
    return Message(
        delivery_id=delivery_id,
        severity="info",
        event="notification_test",
        text=_("Test message for the notification route “%(name)s”: it works.")
        % {"name": route.name},
        organization=route.organization.name if route.organization_id else "",
        organization_id=route.organization_id,
        created_at=timezone.now().isoformat(),
    )
