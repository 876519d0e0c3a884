-- wrk script for the direct hop and the nginx proxy: GET, and check every reply (status 200 and BENCH_EXPECT).
local expect = os.getenv("BENCH_EXPECT") or "{"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failures = 0
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, expect, 1, true) then failures = failures + 1 end
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
