from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.monitoring import views as monitoring

admin.site.site_header = "Spotdesk"
admin.site.site_title = "Spotdesk ops console"

urlpatterns = [
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("status", monitoring.fleet_status, name="status"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
