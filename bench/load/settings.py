"""Benchmark settings: production settings, except that the load client talks plain HTTP on
loopback (no TLS redirect, cookies not marked Secure). Everything else — DEBUG off, the native
pool, middleware, JSON logging, rate limits — is what production runs."""

from bodegapos.settings.prod import *  # noqa: F403 - production settings, adapted for the bench

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
