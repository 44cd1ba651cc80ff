from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from ops.ratelimit import RateLimitedLoginView

urlpatterns = [
    path("", RedirectView.as_view(url="/pos/", permanent=False)),
    path("accounts/login/", RateLimitedLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("sales.urls")),
    path("", include("ops.urls")),
]

handler500 = "ops.views.server_error"
