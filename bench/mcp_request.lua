-- wrk script: POST one `echo` tools/call (or, with BENCH_METHOD=tools/list, a tools/list) over
-- Streamable HTTP, in the era BENCH_ERA names:
--   modern  2026-07-28: the version and capabilities in params._meta, mirrored in headers
--   legacy  2025-11-25: MCP-Protocol-Version, and Mcp-Session-Id when BENCH_SESSION is set
-- BENCH_TOKEN, when set, is sent as the bearer token. Every non-2xx answer and every 2xx answer
-- whose body is a JSON-RPC error or an isError result is counted.
local era = os.getenv("BENCH_ERA") or "modern"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
local method = os.getenv("BENCH_METHOD") or "tools/call"
local params = method == "tools/call" and '"name":"echo","arguments":{"text":"hi"}' or ''
if era == "modern" then
  local meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
  wrk.body = '{"jsonrpc":"2.0","id":1,"method":"' .. method .. '","params":{' .. params .. (params == '' and '' or ',') .. meta .. '}}'
  wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
  wrk.headers["Mcp-Method"] = method
  if method == "tools/call" then
    wrk.headers["Mcp-Name"] = "echo"
  end
else
  wrk.body = '{"jsonrpc":"2.0","id":1,"method":"' .. method .. '","params":{' .. params .. '}}'
  wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
  local session = os.getenv("BENCH_SESSION")
  if session and session ~= "" then
    wrk.headers["Mcp-Session-Id"] = session
  end
end
local token = os.getenv("BENCH_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function failed(body)
  return body:find('"error"%s*:') or body:find('"isError"%s*:%s*true')
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
