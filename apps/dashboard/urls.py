from django.urls import path

from . import backtests, export_views, extras_views, language, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("language/", language.switch_language, name="language"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
    path(
        "accounts/<int:account_id>/positions/<int:position_id>/row/",
        views.position_row,
        name="position-row",
    ),
    path("backtests/", backtests.backtest_list, name="backtests"),
    path("backtests/<int:backtest_id>/", backtests.backtest_detail, name="backtest"),
    path("backtests/<int:backtest_id>/row/", backtests.backtest_row, name="backtest-row"),
    path("preferences/layout/", extras_views.layout, name="layout"),
    path("preferences/tour/", extras_views.tour_completed, name="tour"),
    path("manifest.webmanifest", extras_views.manifest, name="manifest"),
    path("sw.js", extras_views.service_worker, name="service_worker"),
    path(
        "accounts/<int:account_id>/export/<slug:kind>.<slug:fmt>",
        export_views.export,
        name="export",
    ),
    path("exports/<str:job_id>/", export_views.export_status, name="export-status"),
    path("exports/<str:job_id>/download", export_views.export_download, name="export-download"),
]
