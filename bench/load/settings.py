"""Benchmark settings: production settings, except that the load client talks plain HTTP on
loopback (no TLS redirect, cookies not marked Secure), and one more URL, the lean reference view
(``bench.load.lean``). Everything else — DEBUG off, the native pool, middleware, JSON logging,
rate limits — is what production runs."""

from bodegapos.settings.prod import *  # noqa: F403 - production settings, adapted for the bench

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# The app's URLs and the lean reference view (bench.load.lean) beside the checkout.
ROOT_URLCONF = "bench.load.urls"
