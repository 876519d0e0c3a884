-- wrk script: POSTs one JSON-RPC message to the broker with the MCP headers and CHECKS EVERY REPLY.
-- Environment: BENCH_BODY (file with the JSON-RPC body), BENCH_SESSION (Mcp-Session-Id), BENCH_AUTH
-- (Authorization value), BENCH_EXPECT (a substring every good reply contains), BENCH_REJECT (a substring no good
-- reply may contain, default '"isError":true'), BENCH_OUT (file for the JSON summary).
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = f:read("*a")
f:close()
local expect = os.getenv("BENCH_EXPECT") or '"result"'
local reject = os.getenv("BENCH_REJECT") or '"isError":true'
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
  wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
  wrk.headers["Mcp-Session-Id"] = os.getenv("BENCH_SESSION")
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) or (reject ~= "" and string.find(body, reject, 1, true)) then
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
