-- wrk script: the same bid POST against nginx (fixed 202) and against gavel.
-- Set BID_PATH and TOKEN in the environment.
wrk.method = "POST"
wrk.path = os.getenv("BID_PATH") or "/v1/auctions/x/bids"
wrk.body = '{"amount":1000,"maxAmount":1500}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "none")

-- BID_PATHS (space-separated) spreads the POSTs over several auctions, one after the other.
local paths = {}
for path in string.gmatch(os.getenv("BID_PATHS") or "", "%S+") do paths[#paths + 1] = path end
if #paths > 0 then
  local next_path = 0
  request = function()
    next_path = next_path % #paths + 1
    return wrk.format(nil, paths[next_path])
  end
end
