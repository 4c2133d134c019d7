-- wrk script: the same bid POST against nginx (fixed 202) and against gavel.
-- Set BID_PATH and TOKEN in the environment.
wrk.method = "POST"
wrk.path = os.getenv("BID_PATH") or "/v1/auctions/x/bids"
wrk.body = '{"amount":1000,"maxAmount":1500}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "none")
