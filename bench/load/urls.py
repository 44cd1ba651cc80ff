"""The app's URLs plus the lean reference view (``bench.load.lean``), for the bench settings only."""

from django.urls import path

from bench.load.lean import lean_checkout
from bodegapos.urls import handler500
from bodegapos.urls import urlpatterns as app_urlpatterns
from ops.ratelimit import checkout_ratelimited

urlpatterns = [*app_urlpatterns, path("bench/lean-checkout", checkout_ratelimited(lean_checkout))]

__all__ = ["handler500", "urlpatterns"]
