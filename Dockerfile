# slabot as a container: `slabot serve` (Slack over HTTP, the clock inside) on $PORT.
# Build: docker build -t slabot .            (EXTRAS=postgres,chart adds the report's chart)
# Run:   docker compose up                    (with PostgreSQL: compose.yaml)
# The install is the README's (a virtualenv and pip install), in a build stage, so the image
# carries neither pip's cache nor the source tree.

ARG PYTHON=3.11

FROM python:${PYTHON}-slim AS build
ARG EXTRAS=postgres
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python3 -m venv /opt/slabot \
    && /opt/slabot/bin/pip install --no-cache-dir ".[${EXTRAS}]"

FROM python:${PYTHON}-slim
# A user without a login or a password, owning only the working directory.
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home slabot
COPY --from=build /opt/slabot /opt/slabot
WORKDIR /app
COPY --chown=slabot:slabot policies ./policies
ENV PATH=/opt/slabot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    SLABOT_POLICIES=/app/policies \
    LOG_FORMAT=json
USER 10001:10001
EXPOSE 3000
# Liveness only: /readyz (database, migrations, clock) is for the orchestrator's readiness
# probe; restarting slabot would not bring a database back.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '3000') + '/healthz', timeout=4)"]
CMD ["slabot", "serve"]
