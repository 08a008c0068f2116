-- GET /v1/customers?phone=... for a random seeded phone number.
local n = tonumber(os.getenv("BENCH_CUSTOMERS") or "100000")
local key = os.getenv("BENCH_KEY")
math.randomseed(os.time() + 1)
request = function()
  local i = math.random(1, n)
  return wrk.format("GET", string.format("/v1/customers?phone=%%2B86138%08d", i), { ["Authorization"] = "Bearer " .. key })
end
