-- What the MCP server and the job worker may do, run by the owner after every `drawbridge db
-- upgrade` (docker-compose's db-grants service). psql variable: mcp, the MCP role's name.
-- It starts by revoking everything, so this file is the whole truth: a line removed here is a
-- privilege removed there. A table not listed (signing_keys, users, consents, authorization_codes,
-- grants, refresh_tokens, and whatever is added later) stays closed to the MCP role.
\set ON_ERROR_STOP on

BEGIN;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM :"mcp";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM :"mcp";

-- shared/policy.py: a client's own rate limits. Never its secret hashes (a disabled client's tokens
-- are refused through revocations, below).
GRANT SELECT (client_id, rate_limit_per_minute, person_rate_limit_per_minute, tool_rate_limits) ON oauth_clients TO :"mcp";
-- shared/revocation.py (without Redis): read; the authorization server writes it.
GRANT SELECT ON revocations TO :"mcp";
-- mcp_resource/tool_states.py and notifications.py: read; operators switch tools as the owner.
GRANT SELECT ON tool_states TO :"mcp";
-- mcp_resource/jobs.py: the MCP server creates jobs, the worker runs and updates them.
GRANT SELECT, INSERT, UPDATE ON jobs TO :"mcp";
-- mcp_resource/guardrails/audit.py: one row per call; summaries and pruning are the operator's.
GRANT INSERT ON audit_records TO :"mcp";
-- The demo domain the tools work on (orders lock products FOR UPDATE).
GRANT SELECT, INSERT, UPDATE, DELETE ON demo_customers, demo_products, demo_orders, demo_order_lines, demo_posts TO :"mcp";

-- The id sequences of the tables it inserts into.
SELECT format('GRANT USAGE ON SEQUENCE %s TO %I', pg_get_serial_sequence(format('%I', name), 'id'), :'mcp')
FROM unnest(ARRAY['audit_records', 'demo_customers', 'demo_products', 'demo_orders', 'demo_order_lines', 'demo_posts']) AS name
WHERE pg_get_serial_sequence(format('%I', name), 'id') IS NOT NULL \gexec
COMMIT;
