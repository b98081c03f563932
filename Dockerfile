# playbook-bot. Build: docker build -t playbook-bot .   Run: see README ("Docker").
# The default embedder ships its weights in its package: nothing is downloaded at run time.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAYBOOK_KNOWLEDGE_DIR=/app/knowledge \
    PLAYBOOK_INDEX_DIR=/app/data/index
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY scripts/install-app.sh ./scripts/install-app.sh
COPY knowledge /app/knowledge
# One script installs the app and builds the index; CI runs the same script.
RUN bash scripts/install-app.sh /opt/venv .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLAYBOOK_KNOWLEDGE_DIR=/app/knowledge \
    PLAYBOOK_INDEX_DIR=/app/data/index \
    PLAYBOOK_DATABASE_URL=sqlite:////app/data/playbook.db \
    PLAYBOOK_HOST=0.0.0.0 \
    PLAYBOOK_PORT=3000 \
    PLAYBOOK_HEALTH_HOST=0.0.0.0 \
    PLAYBOOK_HEALTH_PORT=9090
RUN useradd --create-home --uid 10001 playbook
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=playbook:playbook /app /app
WORKDIR /app
USER playbook
# Slack over HTTP on 3000 (/slack/events); health and metrics on 9090.
EXPOSE 3000 9090 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9090/healthz', timeout=4).status == 200 else 1)"]
CMD ["playbook", "serve"]
