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

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed_bodies = 0
end

function response(status, headers, body)
  if status >= 200 and status < 300 and (body:find('"error"%s*:') or body:find('"isError"%s*:%s*true')) then
    failed_bodies = failed_bodies + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failed_bodies")
  end
  local errors = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx_or_error=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status + errors.connect + errors.read + errors.write + errors.timeout + failed))
end
