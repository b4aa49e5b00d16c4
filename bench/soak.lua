-- wrk script for the soak (scripts/soak): a mix of public, staff and API requests read from a
-- file, one per line: "KIND PATH", KIND one of public, staff, api, write (a staff form POST).
--   wrk ... -s soak.lua URL -- MIXFILE COOKIE CSRF TOKEN DELAY_MS
-- DELAY_MS (fractional) is waited before each request on a connection: it paces the load
-- below the maximum. Fractions are dithered so the mean delay is exact.
local lines = {}
local idx = 0
local counter = 0
local cookie, csrf, token, delay_ms

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local kind, path = line:match("^(%S+)%s+(%S+)$")
    if kind then lines[#lines + 1] = { kind, path } end
  end
  f:close()
  cookie, csrf, token = args[2], args[3], args[4]
  delay_ms = tonumber(args[5]) or 0
  idx = (id * 7919) % #lines
  math.randomseed(id + 1)
end

function delay()
  local whole = math.floor(delay_ms)
  if math.random() < delay_ms - whole then whole = whole + 1 end
  return whole
end

local written = 0

function request()
  idx = idx % #lines + 1
  local kind, path = lines[idx][1], lines[idx][2]
  if kind == "api" then
    return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
  elseif kind == "staff" then
    return wrk.format("GET", path, { ["Cookie"] = cookie })
  elseif kind == "write" then
    written = written + 1
    local body = "_csrf=" .. csrf .. "&kind=notice&version=&title=soak+" .. id .. "-" .. written
      .. "&body=%E5%8E%8B%E5%8A%9B%E6%B5%8B%E8%AF%95"
    return wrk.format("POST", path, {
      ["Cookie"] = cookie,
      ["Origin"] = wrk.scheme .. "://" .. wrk.host .. ":" .. wrk.port,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, body)
  end
  return wrk.format("GET", path)
end
