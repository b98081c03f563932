# playbook-bot: the default embedder ships its weights in its package, so the image needs no
# download at run time. The index is built at image build time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAYBOOK_KNOWLEDGE_DIR=/app/knowledge \
    PLAYBOOK_INDEX_DIR=/app/.playbook/index

WORKDIR /app
RUN useradd --create-home --uid 10001 playbook
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
COPY knowledge ./knowledge
RUN playbook index && chown -R playbook:playbook /app/.playbook

USER playbook
CMD ["playbook", "serve"]
