-- GET /v1/customers?limit=50: the first page of the dealer's customers, newest first.
local key = os.getenv("BENCH_KEY")
request = function()
  return wrk.format("GET", "/v1/customers?limit=50", { ["Authorization"] = "Bearer " .. key })
end
