from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BacktestConfig(AppConfig):
    name = "apps.backtest"
    label = "backtest"
    verbose_name = _("Backtest")

    def ready(self):
        # The organization's backtest criteria join the go-live checklist.
        from apps.trading.golive import register_checklist_items

        from .golive import backtest_checklist_items

        register_checklist_items(backtest_checklist_items)
