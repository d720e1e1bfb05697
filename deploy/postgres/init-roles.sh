#!/bin/sh
# PostgreSQL image's first start (/docker-entrypoint-initdb.d): create Drawbridge's two roles.
set -eu
psql --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner=drawbridge -v owner_password="$DRAWBRIDGE_OWNER_DB_PASSWORD" \
    -v mcp=drawbridge_mcp -v mcp_password="$DRAWBRIDGE_MCP_DB_PASSWORD" \
    -f /drawbridge-sql/database_roles.sql
