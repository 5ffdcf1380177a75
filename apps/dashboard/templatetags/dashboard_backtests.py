"""Template tags for pages outside the dashboard that show live backtest progress (the
ops console's backtest and batch pages): the words static/dashboard/backtest.js and
live_socket.js write, in the JSON element they read."""

from django import template
from django.utils.html import json_script

from apps.dashboard.backtests import backtest_strings

register = template.Library()


@register.simple_tag
def backtest_live_strings() -> str:
    """`<script id="dashboard-strings" type="application/json">`, as the dashboard's
    layout renders it (json_script escapes it; it is data, not code)."""
    return json_script(backtest_strings(), "dashboard-strings")
