-- wrk `done` hook: one machine-readable line with throughput, latency percentiles (microseconds)
-- and errors. Only `done` is defined, so wrk keeps its fast path (no Lua per request).
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "BENCH rps=%.1f p50_us=%d p99_us=%d p999_us=%d max_us=%d requests=%d non2xx=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d seconds=%.3f\n",
    summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    summary.requests, errors.status, errors.connect, errors.read, errors.write, errors.timeout, seconds))
end
