# playbook-bot: the default embedder ships its weights in its package, so the image needs no
# download at run time. The index is built at image build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAYBOOK_KNOWLEDGE_DIR=/app/knowledge \
    PLAYBOOK_INDEX_DIR=/app/.playbook/index \
    PLAYBOOK_DATABASE_URL=sqlite:////app/.playbook/playbook.db \
    PLAYBOOK_HOST=0.0.0.0 \
    PLAYBOOK_PORT=3000

WORKDIR /app
RUN useradd --create-home --uid 10001 playbook
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
COPY knowledge ./knowledge
RUN playbook index && chown -R playbook:playbook /app/.playbook

USER playbook
# Slack over HTTP listens on 3000 (/slack/events); Socket Mode needs no port.
EXPOSE 3000
CMD ["playbook", "serve"]
