-- GET /v1/customers/{id} for a random one of the seeded customers (ids derived from 1..N).
local n = tonumber(os.getenv("BENCH_CUSTOMERS") or "100000")
local key = os.getenv("BENCH_KEY")
math.randomseed(os.time())
request = function()
  local i = math.random(1, n)
  local path = string.format("/v1/customers/00000000-0000-0000-0000-%012x", i)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. key })
end
