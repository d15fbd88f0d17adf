-- wrk script of bench/run.py: the requests of one endpoint, and a check of every answer.
--
-- Configured by environment variables (bench/load.py sets them):
--   BENCH_ENDPOINT  baseline, detail, list, search, cart_add, quote, order
--   BENCH_DATA      folder of the data files (one value a line): categories.txt,
--                   words.txt, guests.txt, customers.txt, buyers.txt, body.json
--   BENCH_PRODUCTS, BENCH_VARIANTS   ids are 1..n
--   BENCH_THREADS   wrk's -t: each thread takes its own share of the carts
--   BENCH_RUN       a run id, part of every Idempotency-Key
--   BENCH_RESULT    where done() writes the results (JSON)
--
-- An answer counts as an error unless it has the endpoint's status (201 for writes,
-- 200 otherwise) and, for a quote, no checkout errors. Place order uses each buyer's
-- cart once; a thread that runs out of buyers starts again from its first (those
-- orders then fail and are counted in "exhausted").

local endpoint = os.getenv("BENCH_ENDPOINT")
local data = os.getenv("BENCH_DATA")
local products = tonumber(os.getenv("BENCH_PRODUCTS"))
local variants = tonumber(os.getenv("BENCH_VARIANTS"))
local thread_count = tonumber(os.getenv("BENCH_THREADS"))
local run_id = os.getenv("BENCH_RUN")

local expected = 200
if endpoint == "cart_add" or endpoint == "order" then expected = 201 end

-- main state: the threads, to read their counts in done()
local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

local function read_lines(name)
   local lines = {}
   for line in io.lines(data .. "/" .. name) do
      if line ~= "" then lines[#lines + 1] = line end
   end
   return lines
end

local function my_share(lines)
   local mine = {}
   for i = thread_index + 1, #lines, thread_count do mine[#mine + 1] = lines[i] end
   return mine
end

local function read_file(name)
   local file = assert(io.open(data .. "/" .. name, "r"))
   local text = file:read("*a")
   file:close()
   return text
end

-- thread state
local pool, next_index, body, categories, words
local sent = 0

function init(args)
   math.randomseed(os.time() + 7919 * thread_index)
   statuses = {}
   bad_body, empty, exhausted = 0, 0, 0
   sample = nil
   if endpoint == "list" then
      categories = read_lines("categories.txt")
   elseif endpoint == "search" then
      words = read_lines("words.txt")
   elseif endpoint == "cart_add" then
      pool = my_share(read_lines("guests.txt"))
   elseif endpoint == "quote" then
      pool = my_share(read_lines("customers.txt"))
      body = read_file("body.json")
   elseif endpoint == "order" then
      pool = my_share(read_lines("buyers.txt"))
      body = read_file("body.json")
   end
   next_index = 0
end

local function take()
   next_index = next_index + 1
   if next_index > #pool then
      next_index = 1
      if endpoint == "order" then exhausted = exhausted + 1 end
   end
   return pool[next_index]
end

local function with_json(headers)
   headers["Content-Type"] = "application/json"
   return headers
end

local request_of = {
   baseline = function()
      return wrk.format("GET", "/baseline/products/" .. math.random(1, products))
   end,
   detail = function()
      return wrk.format("GET", "/api/v1/products/" .. math.random(1, products))
   end,
   list = function()
      local low = 5 * math.random(1, 20)
      local high = low + 50 * math.random(1, 4)
      return wrk.format("GET", string.format(
         "/api/v1/products?category=%s&min_price=%d.00&max_price=%d.00&sort=price&per_page=24",
         categories[math.random(1, #categories)], low, high))
   end,
   search = function()
      local q = words[math.random(1, #words)]:gsub(" ", "+")
      return wrk.format("GET", "/api/v1/products?q=" .. q .. "&per_page=24")
   end,
   cart_add = function()
      local item = string.format('{"variant_id": %d, "quantity": 1}', math.random(1, variants))
      return wrk.format("POST", "/api/v1/cart/items",
                        with_json({ ["X-Cart-Token"] = take() }), item)
   end,
   quote = function()
      return wrk.format("POST", "/api/v1/checkout/quote",
                        with_json({ Authorization = "Bearer " .. take() }), body)
   end,
   order = function()
      sent = sent + 1
      return wrk.format("POST", "/api/v1/orders", with_json({
         Authorization = "Bearer " .. take(),
         ["Idempotency-Key"] = string.format("bench-%s-%d-%d", run_id, thread_index, sent),
      }), body)
   end,
}

local make_request = request_of[endpoint]

function request()
   return make_request()
end

function response(status, headers, body)
   local key = tostring(status)
   statuses[key] = (statuses[key] or 0) + 1
   if status ~= expected then
      if sample == nil then sample = key .. " " .. string.sub(body or "", 1, 400) end
      return
   end
   if endpoint == "quote" and not string.find(body, '"errors": []', 1, true) then
      bad_body = bad_body + 1
      if sample == nil then sample = key .. " " .. string.sub(body, 1, 400) end
   elseif (endpoint == "list" or endpoint == "search")
         and string.find(body, '"total": 0,', 1, true) then
      empty = empty + 1
   end
end

local function json_string(text)
   return '"' .. text:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end) .. '"'
end

function done(summary, latency, requests)
   local statuses, bad, none, out_of_carts, samples = {}, 0, 0, 0, {}
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get("statuses")) do
         statuses[key] = (statuses[key] or 0) + count
      end
      bad = bad + thread:get("bad_body")
      none = none + thread:get("empty")
      out_of_carts = out_of_carts + thread:get("exhausted")
      local sample = thread:get("sample")
      if sample ~= nil then samples[#samples + 1] = json_string(sample) end
   end
   local parts = {}
   for key, count in pairs(statuses) do
      parts[#parts + 1] = string.format('"%s": %d', key, count)
   end
   local e = summary.errors
   local file = assert(io.open(os.getenv("BENCH_RESULT"), "w"))
   file:write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}, ' ..
      '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
      '"statuses": {%s}, "expected_status": %d, "bad_body": %d, "empty_results": %d, ' ..
      '"exhausted": %d, "samples": [%s]}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(95),
      latency:percentile(99), latency.mean, latency.max,
      e.connect, e.read, e.write, e.timeout,
      table.concat(parts, ", "), expected, bad, none, out_of_carts, table.concat(samples, ", ")))
   file:close()
end
