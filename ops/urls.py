from django.urls import path

from ops import views
from ops.ratelimit import checkout_ratelimited
from sales.api import checkout as checkout_api

urlpatterns = [
    path("health", views.health_view, name="health"),
    path("metrics", views.metrics_view, name="metrics"),
    # The till's checkout under ops' limit, RATELIMIT_CHECKOUT per register (429 + Retry-After):
    # ops puts it on sales' view here, so the arrow runs ops -> sales.
    path("api/v1/checkout", checkout_ratelimited(checkout_api.checkout), name="api-checkout"),
]
