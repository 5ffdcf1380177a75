from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import auth_events  # noqa: F401  (connects the authentication audit)
        from .groups import ensure_staff_groups

        # Every app's post_migrate: the permissions of later apps exist only by then.
        post_migrate.connect(ensure_staff_groups, dispatch_uid="spotdesk_groups")
