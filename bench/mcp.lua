-- wrk script: POSTs one JSON-RPC message to the broker with the MCP headers and CHECKS EVERY REPLY.
-- Environment: BENCH_BODY (file with the JSON-RPC body), BENCH_SESSION (Mcp-Session-Id), BENCH_AUTH
-- (Authorization value), BENCH_EXPECT (a substring every good reply contains), BENCH_REJECT (a substring no good
-- reply may contain, default '"isError":true'), BENCH_OUT (file for the JSON summary), BENCH_PREFIX (what every
-- good reply starts with) and BENCH_EXPECT_TAIL (look for BENCH_EXPECT only in the reply's last N bytes: for the
-- 0.5 MB tools/list reply, two full scans per reply made the load generator the bottleneck).
-- BENCH_ERA=2026 sends MCP 2026-07-28 requests instead: no session, the routing headers (BENCH_METHOD, BENCH_NAME)
-- that must match the body, whose _meta carries the envelope.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = f:read("*a")
f:close()
local expect = os.getenv("BENCH_EXPECT") or '"result"'
local reject = os.getenv("BENCH_REJECT") or '"isError":true'
local prefix = os.getenv("BENCH_PREFIX") or ""
local tail = tonumber(os.getenv("BENCH_EXPECT_TAIL") or "")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failures = 0
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  if os.getenv("BENCH_ERA") == "2026" then
    wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
    wrk.headers["Mcp-Method"] = os.getenv("BENCH_METHOD") or "tools/call"
    local name = os.getenv("BENCH_NAME")
    if name and name ~= "" then wrk.headers["Mcp-Name"] = name end
  else
    wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
    wrk.headers["Mcp-Session-Id"] = os.getenv("BENCH_SESSION")
  end
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
end

function response(status, headers, body)
  local from = 1
  if tail then from = math.max(1, #body - tail) end
  if status ~= 200 or not string.find(body, expect, from, true) or (reject ~= "" and string.find(body, reject, 1, true))
      or (prefix ~= "" and string.sub(body, 1, #prefix) ~= prefix) then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, t in ipairs(threads) do failed = failed + t:get("failures") end
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"socket_errors":%d,"status_errors":%d,"failed_checks":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, failed, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  out:close()
end
