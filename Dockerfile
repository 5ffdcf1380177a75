# One image for every Spotdesk role (web, worker, beat, streams, paper exchange),
# selected by the command. Multi-stage: build tools stay in the first stage.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential gettext nodejs npm \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
COPY requirements/ /app/requirements/
RUN /opt/venv/bin/pip install -r /app/requirements/production.txt
COPY . /app
WORKDIR /app
# Translations, front-end packages and static files are generated here, never committed.
RUN npm ci --no-audit --no-fund && rm -rf node_modules
RUN DJANGO_SETTINGS_MODULE=config.settings.base SECRET_KEY=build-only-not-a-secret \
    /opt/venv/bin/python manage.py compilemessages --ignore .venv \
 && DJANGO_SETTINGS_MODULE=config.settings.base SECRET_KEY=build-only-not-a-secret \
    STATIC_ROOT=/app/staticfiles /opt/venv/bin/python manage.py collectstatic --noinput -v 0

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production STATIC_ROOT=/app/staticfiles \
    SPOTDESK_VAR_DIR=/app/var
RUN groupadd --system --gid 10001 spotdesk \
 && useradd --system --uid 10001 --gid spotdesk --home-dir /app --shell /usr/sbin/nologin spotdesk
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=spotdesk:spotdesk /app /app
WORKDIR /app
RUN mkdir -p /app/var && chown spotdesk:spotdesk /app/var
USER spotdesk
EXPOSE 8000
# Each role overrides this in docker-compose; web's liveness is /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "deploy/healthcheck.py", "web"]
ENTRYPOINT ["deploy/docker-entrypoint.sh"]
CMD ["web"]
