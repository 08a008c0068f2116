-- GET /v1/leads?overdue=true (a manager's overdue list, first page of 50).
local key = os.getenv("BENCH_KEY")
request = function()
  return wrk.format("GET", "/v1/leads?overdue=true&limit=50", { ["Authorization"] = "Bearer " .. key })
end
