"""The audit trail: append-only events, hash-chained per organization.

Deliberately no foreign keys: deleting a user or an organization never touches the
trail. Each event stores the SHA-256 of its canonical content, which includes the
previous event's hash, so any edit, deletion or insertion breaks the chain.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.errors import ConflictError

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"


def chain_for(organization_id: int | None) -> str:
    return PLATFORM_CHAIN if organization_id is None else f"org:{organization_id}"


class AppendOnlyError(ConflictError):
    code = "audit_append_only"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only: they cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events are append-only: they cannot be deleted")

    _raw_delete = delete

    def for_user(self, user, action: str = "view"):
        """Events of the organizations whose audit the user may read (see accounts)."""
        from apps.accounts.scoping import audit_organization_ids  # accounts sits beside audit

        scope = audit_organization_ids(user)
        if scope is None:
            return self.all()
        return self.filter(organization_id__in=scope)


class AuditEvent(models.Model):
    chain = models.CharField(_("chain"), max_length=64, editable=False)
    sequence = models.PositiveBigIntegerField(_("sequence"), editable=False)
    occurred_at = models.DateTimeField(_("time"), db_index=True, editable=False)
    # Indexed together with the time, in Meta.indexes (docs/performance.md).
    organization_id = models.BigIntegerField(
        _("organization id"), null=True, blank=True, editable=False
    )
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True, editable=False)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=100, editable=False)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, editable=False)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, editable=False)
    changes = models.JSONField(
        _("changes"),
        default=dict,
        blank=True,
        editable=False,
        help_text=_("Before and after of the changed fields, or the action's details."),
    )
    ip_address = models.GenericIPAddressField(
        _("IP address"), null=True, blank=True, editable=False
    )
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True, editable=False)
    correlation_id = models.CharField(
        _("correlation id"), max_length=64, blank=True, editable=False
    )
    previous_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()
    organization_path = "organization_id"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "sequence"], name="audit_event_chain_sequence"
            ),
            models.UniqueConstraint(fields=["hash"], name="audit_event_unique_hash"),
        ]
        indexes = [
            models.Index(fields=["organization_id", "-occurred_at"]),
            # Exact filters (API, admin); search is icontains, which no b-tree serves.
            models.Index(fields=["action"], name="audit_event_action"),
            models.Index(fields=["actor_username"], name="audit_event_actor"),
        ]
        permissions = [("export_auditevent", _("Can export audit events"))]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only: they cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only: they cannot be deleted")


class AuditChainHead(models.Model):
    """The last link of one chain; appends lock this row, so a chain never forks.

    `anchor_*` record where a chain starts after older events were archived: the
    sequence and hash of the last archived event, so the kept part stays verifiable.
    """

    chain = models.CharField(_("chain"), max_length=64, primary_key=True)
    last_sequence = models.PositiveBigIntegerField(_("last sequence"), default=0)
    last_hash = models.CharField(_("last hash"), max_length=64, default=GENESIS_HASH)
    anchor_sequence = models.PositiveBigIntegerField(_("anchor sequence"), default=0)
    anchor_hash = models.CharField(_("anchor hash"), max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self) -> str:
        return f"{self.chain} @ {self.last_sequence}"
