# BodegaPOS image for web, worker and release (same image, different command; see Procfile).
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=bodegapos.settings.prod

# libxml2/libxmlsec are pulled by lxml/signxml wheels; nothing to compile.
RUN useradd --create-home --uid 1000 bodega
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=bodega:bodega . .

# Hashed + compressed (gzip, Brotli) static files baked into the image. collectstatic needs
# settings, not secrets: dummy values only for this step.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgresql://x@localhost/x SUNAT_ENV=fake \
    FIELD_ENCRYPTION_KEY=oYb8D25oMlQBKox7VoyD77WejT4lyT2TYHhitCOFHYw= ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

USER bodega
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "bodegapos.wsgi"]
