from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from apps.accounts.admin_site import SpotdeskAdminSite
from apps.monitoring import views as monitoring

# The default site keeps every registration but admits only OTP-verified staff, and
# its login is the platform's single login page (axes + second factor).
admin.site.__class__ = SpotdeskAdminSite

urlpatterns = [
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("status", monitoring.fleet_status, name="status"),
    path("metrics", monitoring.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("apps.accounts.urls")),
    path("api/", include("apps.api.urls")),
    path("dashboard/", include("apps.dashboard.urls")),
    path("admin/", admin.site.urls),
]

# A request that found no free database connection in time is 503, not a crash.
handler500 = "apps.monitoring.overload.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
