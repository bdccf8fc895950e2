-- wrk script of Portside's load driver (bench/load): POSTs GraphQL request bodies to /graphql,
-- cycling through a file of precomputed bodies (one JSON body per line), and counts the responses
-- that must not happen: non-2xx statuses and bodies carrying GraphQL "errors".
--
-- Usage: wrk ... -s wrk.lua http://HOST:PORT/graphql -- BODIES_FILE [THREADS]
--
-- Each thread starts at a different offset of the list (thread i of n at i/n of the way through),
-- so the threads do not ask for the same entity at the same moment. done() prints one line the
-- driver parses:
--   portside-bench: responses=N non2xx=N graphql_errors=N bodies=N

local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path = args[1]
   if path == nil then
      error("wrk.lua: give the bodies file after --")
   end
   local f = assert(io.open(path, "r"))
   bodies = {}
   for line in f:lines() do
      if #line > 0 then
         table.insert(bodies, line)
      end
   end
   f:close()
   if #bodies == 0 then
      error("wrk.lua: " .. path .. " holds no bodies")
   end
   nbodies = #bodies
   local nthreads = tonumber(args[2]) or 1
   idx = math.floor(id * #bodies / nthreads) % #bodies
   responses, non2xx, graphql_errors = 0, 0, 0
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Accept"] = "application/graphql-response+json, application/json"
end

function request()
   idx = idx % #bodies + 1
   return wrk.format(nil, nil, nil, bodies[idx])
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
   -- A GraphQL response reports failures in a top-level "errors" member; data never has such a key.
   if body ~= nil and string.find(body, '"errors":', 1, true) then
      graphql_errors = graphql_errors + 1
   end
end

function done(summary, latency, requests)
   local r, n, g, b = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      r = r + (t:get("responses") or 0)
      n = n + (t:get("non2xx") or 0)
      g = g + (t:get("graphql_errors") or 0)
      b = math.max(b, t:get("nbodies") or 0)
   end
   io.write(string.format("portside-bench: responses=%d non2xx=%d graphql_errors=%d bodies=%d\n", r, n, g, b))
end
