"""The dashboard pages: server-rendered, then kept current by static/dashboard/js over
/ws/live/. Controls post to the REST API (the same services, checks and audit)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from apps.accounts.models import AccountStatus
from apps.accounts.otp import otp_satisfied
from apps.core.redis import get_redis
from apps.trading.models import Intent, Side
from apps.trading.states import OrderStatus

from . import heatmap, selectors, sequence
from .events import account_group


def verified_session(view):
    """Signed in, with the second factor verified in this session when the user needs
    or has one: the rule of the admin, /status and the live WebSocket."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_active and otp_satisfied(user, request.session)):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded


def js_strings() -> dict[str, str]:
    """The words the page scripts write, translated here (the pages carry them as JSON)."""
    return {
        # A context keeps these apart from "Live" the trading environment.
        "live": pgettext("live updates connection", "Live"),
        "reconnecting": pgettext("live updates connection", "Reconnecting…"),
        "offline": pgettext("live updates connection", "Offline"),
        "done": _("Done."),
        "failed": _("The request failed:"),
        "confirm_pause": _("Pause this account? Its strategies stop opening positions."),
        "confirm_resume": _("Resume this account? Its strategies start trading again."),
        "confirm_kill": _(
            "Press the kill switch? The account is halted at once and its open entry "
            "orders are canceled."
        ),
        "confirm_close": _("Close this position now? It is sold at market."),
        "confirm_move_stop": _("Move this position's stop to the price entered?"),
        "confirm_cancel_ladder": _(
            "Cancel this position's take-profit ladder? It keeps only its stop."
        ),
        "no_candles": _("No candles stored for this symbol yet."),
        "no_equity": _("No equity snapshots yet."),
        "theme_dark": _("Dark mode"),
        "theme_light": _("Light mode"),
        "labels": {
            "order_status": dict(OrderStatus.choices),
            "intent": dict(Intent.choices),
            "side": dict(Side.choices),
            "account_status": dict(AccountStatus.choices),
        },
    }


@require_GET
@never_cache
@verified_session
def overview(request):
    now = timezone.now()
    accounts = list(selectors.accounts_for(request.user, now=now))
    for account in accounts:
        account.today_pnl = selectors.today_pnl(account)
    return render(
        request,
        "dashboard/overview.html",
        {
            "accounts": accounts,
            "alerts": selectors.latest_alerts(request.user),
            "heatmap": heatmap.build(accounts, now=now),
            "live": {"accounts": [a.pk for a in accounts]},
            "js_strings": js_strings(),
        },
    )


@require_GET
@never_cache
@ensure_csrf_cookie
@verified_session
def account_detail(request, account_id: int):
    now = timezone.now()
    account = selectors.account_for(request.user, account_id, now=now)
    # Read before the rows: the page then resumes from here, so an event published
    # while it renders is replayed rather than lost.
    live_seq = sequence.latest(get_redis(), account_group(account.pk))
    account.today_pnl = selectors.today_pnl(account)
    return render(
        request,
        "dashboard/account.html",
        {
            "account": account,
            "positions": selectors.open_positions(account),
            "orders": selectors.recent_orders(account),
            "fills": selectors.recent_fills(account),
            "decisions": selectors.recent_decisions(account),
            "controls": selectors.controls_for(request.user, account),
            "chart": selectors.chart_data(account),
            "live": {"account": account.pk, "after": live_seq},
            "js_strings": js_strings(),
        },
    )


@require_GET
@never_cache
@verified_session
def position_row(request, account_id: int, position_id: int):
    """One open position's table row, as the page renders it (ladder and actions
    included), for a position the live channel has just reported."""
    account = selectors.account_for(request.user, account_id, now=timezone.now())
    views = selectors.open_positions(account, position_id=position_id)
    if not views:
        raise Http404
    return render(
        request,
        "dashboard/_position_row.html",
        {"view": views[0], "position": views[0].position,
         "controls": selectors.controls_for(request.user, account)},
    )  # fmt: skip
