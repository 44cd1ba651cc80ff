"""Hashed static files: gzip + Brotli, a year-plus immutable Cache-Control; unhashed ones short."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.DEBUG = False
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


def test_hashed_static_is_immutable_and_brotli(collected):
    from django.contrib.staticfiles.storage import staticfiles_storage

    url = staticfiles_storage.url("admin/css/base.css")
    assert url != "/static/admin/css/base.css"  # hashed name
    assert list(collected.glob("admin/css/base.*.css.br")) and list(collected.glob("admin/css/base.*.css.gz"))
    client = Client()
    response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    cache = response["Cache-Control"]
    assert "immutable" in cache and "public" in cache
    max_age = int(cache.split("max-age=")[1].split(",")[0])
    assert max_age >= 365 * 24 * 3600
    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz["Content-Encoding"] == "gzip"
    assert "X-Request-ID" not in response  # static never reaches Django's views
    for served in (response, gz):
        b"".join(served.streaming_content)  # read to the end, the client closes the file (as a server would)


def test_unhashed_static_is_short_lived(collected, settings):
    response = Client().get("/static/admin/css/base.css")
    b"".join(response.streaming_content)  # read to the end: the client then closes the file
    assert response.status_code == 200
    assert "immutable" not in response["Cache-Control"]
    assert f"max-age={settings.WHITENOISE_MAX_AGE}" in response["Cache-Control"]
