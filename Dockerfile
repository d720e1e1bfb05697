# One image for every service; the compose command picks which one runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
# The dependencies exactly as locked (requirements.lock: each pinned with its hashes, `make lock`),
# setuptools to build with among them; a layer of its own, rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY authserver authserver
COPY mcp_resource mcp_resource
COPY serving serving
COPY shared shared
COPY migrations migrations
COPY deploy deploy
# Editable install: the CLI finds migrations/ beside the packages. Nothing is resolved or fetched
# again: the build uses the locked setuptools.
RUN pip install --no-deps --no-build-isolation -e . && useradd --system --home /app drawbridge
USER drawbridge
