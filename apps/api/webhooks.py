"""POST /api/webhooks/signals/<token>/: a signed signal for one strategy config.

Not a DRF resource: no session or token, the request's own HMAC signature is the
credential (apps/strategies/webhooks.py). Answers use the API's error shape. Every
refusal of a known webhook is audited; an accepted signal is audited and queued for
the trading cycle (apps/trading/webhook_signals.py) once its audit event commits.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.audit.services import record_event
from apps.core.errors import ValidationError
from apps.core.redis import get_redis
from apps.strategies.models import SignalWebhook
from apps.strategies.webhooks import Refused, parse_signal, verify_request

from .errors import body as error_body

logger = logging.getLogger(__name__)


def _address(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _refuse(request, webhook: SignalWebhook, status: int, code: str, message: str, **extra):
    record_event(
        action="strategy_config.webhook_refused",
        organization_id=webhook.config.account.organization_id,
        target=webhook.config,
        changes={"code": code, "reason": message, **extra},
        ip_address=_address(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:200],
    )
    fields = extra.get("fields") or {}
    return JsonResponse(error_body(code, message, fields), status=status)


@csrf_exempt
@require_POST
def signal_webhook(request, token: str):
    webhook = (
        SignalWebhook.objects.select_related("config__account")
        .filter(token=token, enabled=True)
        .first()
    )
    if webhook is None:
        # Unknown or disabled: nothing to audit against; the same answer for both.
        logger.info("signal webhook refused: unknown token", extra={"path": request.path})
        return JsonResponse(error_body("not_found", "no such webhook"), status=404)
    raw = request.body
    try:
        nonce = verify_request(webhook, body=raw, headers=request.headers, redis=get_redis())
    except Refused as refused:
        return _refuse(request, webhook, refused.status, refused.code, refused.message)
    config = webhook.config
    try:
        signal = parse_signal(raw, config=config)
    except ValidationError as error:
        return _refuse(
            request,
            webhook,
            400,
            error.code,
            error.message,
            nonce=nonce,
            fields={error.field: [error.rule]},
        )
    received_ms = int(timezone.now().timestamp() * 1000)
    args = signal.as_task_args()
    with transaction.atomic():
        SignalWebhook.objects.filter(pk=webhook.pk).update(last_signal_at=timezone.now())
        record_event(
            action="strategy_config.webhook_signal",
            organization_id=config.account.organization_id,
            target=config,
            changes={"nonce": nonce, "signal": args},
            ip_address=_address(request),
        )
        transaction.on_commit(lambda: _enqueue(config.pk, nonce, args, received_ms))
    return JsonResponse({"accepted": True, "nonce": nonce, "signal": args}, status=202)


def _enqueue(config_id: int, nonce: str, signal: dict, received_ms: int) -> None:
    from apps.trading.webhook_signals import evaluate_webhook_signal_task

    evaluate_webhook_signal_task.delay(config_id, nonce, signal, received_ms)
