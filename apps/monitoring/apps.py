from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "apps.monitoring"
    label = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from .collectors import register_collectors

        register_collectors()
        from django.db.backends.signals import connection_created

        from .database import watch_slow_queries

        connection_created.connect(watch_slow_queries, dispatch_uid="spotdesk.slow_queries")
        from .tracing import configure_from_settings

        configure_from_settings()  # OTEL_ENABLED: spans around the order path
