-- Drawbridge's two database roles, created once by a superuser (docker-compose runs this through
-- init-roles.sh when the PostgreSQL volume is first made). psql variables:
--   owner, owner_password   owns the schema: migrations, the authorization server, operators' commands
--   mcp, mcp_password       the MCP server and the job worker: only what mcp_grants.sql grants
--
-- Why two: the MCP server runs third-party-shaped tool code and answers the most traffic, so it is
-- the likeliest to be made to run a query it should not. With the owner's URL, one such query read
-- the signing keys and minted tokens (issue #18). The MCP role cannot read signing_keys, users,
-- codes, grants, refresh tokens or client secrets, and a table added later is closed to it until
-- mcp_grants.sql opens it.
\set ON_ERROR_STOP on

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE :"mcp" LOGIN PASSWORD :'mcp_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;

-- The owner owns this database and, through it, the public schema (pg_database_owner, PostgreSQL 15+).
SELECT format('ALTER DATABASE %I OWNER TO %I', current_database(), :'owner') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'mcp') \gexec
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"mcp";

-- New tables and sequences are the owner's alone: nothing is granted by default, to PUBLIC or to
-- the MCP role. Never add "ALTER DEFAULT PRIVILEGES ... GRANT ... TO mcp": the next table might
-- hold secrets. Each table the MCP server needs is listed in mcp_grants.sql.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" REVOKE ALL ON TABLES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" REVOKE ALL ON SEQUENCES FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
