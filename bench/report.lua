-- Shared by the wrk scripts: counts answers the script's `failed(status, body)` rejects, and prints
-- one RESULT line with requests, seconds, p50, p99 and every non-2xx, socket error or failed body.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed_bodies = 0
end

function response(status, headers, body)
  if status >= 200 and status < 300 and failed(body) then
    failed_bodies = failed_bodies + 1
  end
end

function done(summary, latency, requests)
  local failures = 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed_bodies")
  end
  local errors = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f non2xx_or_error=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors.status + errors.connect + errors.read + errors.write + errors.timeout + failures))
end
