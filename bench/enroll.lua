-- bench/enroll.lua: wrk script for the HR intake benchmark (scripts/bench.sh).
--
-- Sends POST /v1/enrollments at a fixed total rate, each request a different user (one body per
-- line of ENROLL_BODIES, written by bench_fixtures --enroll-bodies), with its own Idempotency-Key.
-- Environment: ENROLL_BODIES (file), ENROLL_API_KEY (Bearer key, enroll scope), ENROLL_RATE
-- (requests per second over all threads, default 100), ENROLL_THREADS (wrk -t, default 2),
-- ENROLL_RESULT (file for the JSON summary).
--
-- Pacing: each thread keeps a schedule (one send every threads/rate seconds) and wrk's delay()
-- holds a connection until its slot, so the offered rate does not depend on response times as
-- long as enough connections are open (-c). Latency percentiles are wrk's own.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } cd_timespec;
  int clock_gettime(int clock_id, cd_timespec* ts);
]]
local ts = ffi.new("cd_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("index", thread_count)
  thread_count = thread_count + 1
  threads[#threads + 1] = thread
end

function init(args)
  nthreads = tonumber(os.getenv("ENROLL_THREADS") or "2")
  bodies = {}
  local file = assert(io.open(os.getenv("ENROLL_BODIES"), "r"), "ENROLL_BODIES unreadable")
  for line in file:lines() do bodies[#bodies + 1] = line end
  file:close()
  api_key = os.getenv("ENROLL_API_KEY")
  rate = tonumber(os.getenv("ENROLL_RATE") or "100")
  next_body = index + 1
  sent, accepted, rejected, wrapped = 0, 0, 0, 0
  next_slot = nil
end

function request()
  -- Threads take interleaved bodies: thread i sends lines i+1, i+1+n, ... (n = thread count).
  local n = nthreads
  if next_body > #bodies then
    next_body = index + 1
    wrapped = wrapped + 1
  end
  local body = bodies[next_body]
  next_body = next_body + n
  sent = sent + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. api_key,
    ["Idempotency-Key"] = "bench-" .. index .. "-" .. sent .. "-" .. wrapped,
  }
  return wrk.format("POST", "/v1/enrollments", headers, body)
end

function delay()
  local n = nthreads
  local interval = 1000.0 * n / rate
  local t = now_ms()
  if next_slot == nil then next_slot = t end
  next_slot = next_slot + interval
  local wait = next_slot - t
  if wait < 0 then return 0 end
  return wait
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
  else
    rejected = rejected + 1
    if rejected <= 3 then io.stderr:write("enroll.lua: HTTP " .. status .. ": " .. body .. "\n") end
  end
end

function done(summary, latency, requests)
  local accepted_total, rejected_total, wrapped_total = 0, 0, 0
  for _, t in ipairs(threads) do
    accepted_total = accepted_total + t:get("accepted")
    rejected_total = rejected_total + t:get("rejected")
    wrapped_total = wrapped_total + t:get("wrapped")
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"seconds":%.3f,"requestsPerSecond":%.1f,"accepted":%d,"rejected":%d,' ..
    '"socketErrors":%d,"timeouts":%d,"bodiesReused":%d,' ..
    '"latencyMs":{"p50":%.2f,"p90":%.2f,"p99":%.2f,"max":%.2f}}',
    summary.requests, seconds, summary.requests / seconds, accepted_total, rejected_total,
    e.connect + e.read + e.write, e.timeout, wrapped_total,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000)
  print(out)
  local path = os.getenv("ENROLL_RESULT")
  if path then
    local f = io.open(path, "w")
    f:write(out .. "\n")
    f:close()
  end
end
