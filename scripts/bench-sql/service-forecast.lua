-- GET /v1/vehicles/{id}/service-forecast for a random one of the vehicles of seed-reminders.sql.
local n = tonumber(os.getenv("BENCH_VEHICLES") or "100000")
local key = os.getenv("BENCH_KEY")
math.randomseed(os.time())
request = function()
  local i = math.random(1, n)
  local path = string.format("/v1/vehicles/00000000-0000-0000-0007-%012x/service-forecast", i)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. key })
end
