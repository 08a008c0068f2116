-- POST /v1/customers with a new phone number every time (thread number + counter).
local key = os.getenv("BENCH_KEY")
-- A per-run offset keeps repeated runs against one database from reusing numbers.
local counter = (os.time() % 900) * 10000
local thread_id = 0
local threads = {}
setup = function(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
init = function(args)
  thread_id = id or 0
end
request = function()
  counter = counter + 1
  local phone = string.format("137%d%07d", thread_id, counter)
  local body = string.format('{"kind":"person","name":"压测客户%d","phone":"%s","gender":"male","tags":["bench"],"address":{"city":"上海","community":"碧云"}}', counter, phone)
  return wrk.format("POST", "/v1/customers", {
    ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
