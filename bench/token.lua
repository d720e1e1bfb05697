-- wrk script: POST /token with client_credentials. BENCH_BASIC is base64(client_id:secret), BENCH_BODY
-- the form body. Every non-2xx answer and every 2xx answer without an access_token is counted.
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")

function failed(body)
  return not body:find('"access_token"', 1, true)
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
