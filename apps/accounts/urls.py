from django.contrib.auth.views import LogoutView
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", LogoutView.as_view(next_page="accounts:login"), name="logout"),
    path("otp/enrol/", views.enrol_view, name="enrol"),
    path("otp/step-up/", views.step_up_view, name="step_up"),
    path("security/", views.security_view, name="security"),
]
