# One image for every service; the compose command picks which one runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY authserver authserver
COPY mcp_resource mcp_resource
COPY serving serving
COPY shared shared
COPY migrations migrations
COPY deploy deploy
# Editable install: the CLI finds migrations/ beside the packages.
RUN pip install -e . && useradd --system --home /app drawbridge
USER drawbridge
