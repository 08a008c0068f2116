-- The soak's mix, per request at random: 40% GET /v1/customers/{id}, 20% a page of 50
-- customers, 20% a search by phone, 20% POST /v1/customers with a new phone number.
local n = tonumber(os.getenv("BENCH_CUSTOMERS") or "100000")
local key = os.getenv("BENCH_KEY")
local counter = (os.time() % 900) * 10000
local thread_id = 0
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
init = function(args)
  thread_id = id or 0
  math.randomseed(os.time() + thread_id)
end
request = function()
  local auth = { ["Authorization"] = "Bearer " .. key }
  local pick = math.random(1, 10)
  if pick <= 4 then
    return wrk.format("GET", string.format("/v1/customers/00000000-0000-0000-0000-%012x", math.random(1, n)), auth)
  elseif pick <= 6 then
    return wrk.format("GET", "/v1/customers?limit=50", auth)
  elseif pick <= 8 then
    return wrk.format("GET", string.format("/v1/customers?phone=%%2B86138%08d", math.random(1, n)), auth)
  end
  counter = counter + 1
  local body = string.format('{"kind":"person","name":"浸泡客户%d","phone":"136%d%07d","tags":["soak"]}', counter, thread_id, counter)
  return wrk.format("POST", "/v1/customers", {
    ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
