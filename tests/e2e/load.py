# A bounded load generator for the deploy tests: GETs http://127.0.0.1:PORT/
# predict on one keep-alive connection, as fast as it is answered, for at
# most SECONDS and 20,000 requests. Prints one JSON object:
#   codes   {status or exception name: count}
#   models  the models that answered, in order, as [model, count] runs
#           (["clf@1", 120], ["clf@2", 3], ["clf@1", 40], ...)
import http.client, json, sys, time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
end = time.time() + seconds
codes, runs = {}, []
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
while time.time() < end and sum(codes.values()) < 20000:
    try:
        conn.request("GET", "/predict")
        response = conn.getresponse()
        body = response.read()
        key = str(response.status)
        try:
            model = json.loads(body).get("model", "?")
        except ValueError:
            model = "?"
        if runs and runs[-1][0] == model:
            runs[-1][1] += 1
        else:
            runs.append([model, 1])
    except Exception as e:
        key = type(e).__name__
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    codes[key] = codes.get(key, 0) + 1
    time.sleep(0.002)
print(json.dumps({"codes": codes, "models": runs}))
