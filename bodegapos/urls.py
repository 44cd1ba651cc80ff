from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from ops.ratelimit import RateLimitedLoginView, login_ratelimited

urlpatterns = [
    path("", RedirectView.as_view(url="/pos/", permanent=False)),
    path("accounts/login/", RateLimitedLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin's sign-in shares the login rate limit (per IP and username).
    path(f"{settings.ADMIN_URL}login/", login_ratelimited(admin.site.login)),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("sales.urls")),
    path("", include("ops.urls")),
]

handler400 = "ops.views.bad_request"
handler500 = "ops.views.server_error"
