-- POST /v1/leads with a new phone number every time (thread number + counter).
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
end
request = function()
  counter = counter + 1
  local phone = string.format("134%d%07d", thread_id, counter)
  local body = string.format('{"surname":"王","name":"王伟","gender":"male","phone":"%s","party":"individual","customer_type":"replacement","current_brand":"Audi","current_model":"A4L","interest_brand":"BMW","interest_series":"3系","interest_model":"325Li","competitor_models":["Benz C260L"],"intended_purchase_date":"2027-03-01","channel":"showroom","tags":["bench"]}', phone)
  return wrk.format("POST", "/v1/leads", {
    ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
