-- wrk script for test/bench/wrk-ingest.sh: one heartbeat per request, cycling through the node
-- tokens in $WRK_TOKENS (one per line), with the body an agent typically sends.
local tokens = {}
for line in io.lines(os.getenv("WRK_TOKENS")) do tokens[#tokens + 1] = line end
local i = 0
local body = '{"status":"ok","checks":{"disk":{"status":"ok","value":0.42}}}'

request = function()
  i = i % #tokens + 1
  return wrk.format("POST", "/v1/heartbeats", { ["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json" }, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50=%.1fms p99=%.1fms non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
