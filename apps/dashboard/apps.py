from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "apps.dashboard"
    label = "dashboard"
    verbose_name = _("Dashboard")

    def ready(self):
        from apps.accounts.services import account_status_changed

        from . import language  # noqa: F401  (connects the login receiver)
        from .receivers import account_status_changed as publish_account_status

        account_status_changed.connect(
            publish_account_status, dispatch_uid="dashboard.live.account_status"
        )
