from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("accounts/<int:account_id>/", views.account_detail, name="account"),
]
