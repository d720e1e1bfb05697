-- wrk script: GET the authorization server's metadata document, a constant answer through every
-- hook of the app (request id, session, CSRF check, security headers): the ceiling of any endpoint
-- on this stack. Every non-2xx answer and every 2xx answer without a token_endpoint is counted.
wrk.method = "GET"

function failed(body)
  return not body:find('"token_endpoint"', 1, true)
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
