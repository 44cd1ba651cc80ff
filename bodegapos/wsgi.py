"""WSGI entry point for gunicorn (``bodegapos.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bodegapos.settings.prod")

application = get_wsgi_application()
