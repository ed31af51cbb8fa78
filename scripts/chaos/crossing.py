#!/usr/bin/env python3
"""How long a webhook received by one instance takes to reach a browser's live-update stream on
another (PostgreSQL LISTEN/NOTIFY). Signs in as the demo recruiter on instance A, holds A's
GET /events open, posts signed verification webhooks to instance B, and times each until A's
stream tells of it. Prints the median and the slowest, in ms; exits 1 if one never arrives.

  crossing.py SECRET A_URL B_URL [ROUNDS]
"""
import base64, hashlib, hmac, http.client, json, queue, sys, threading, time, urllib.parse

secret, a_url, b_url = sys.argv[1], urllib.parse.urlsplit(sys.argv[2]), urllib.parse.urlsplit(sys.argv[3])
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 7
key = base64.b64decode(secret.removeprefix("whsec_"))

conn = http.client.HTTPConnection(a_url.hostname, a_url.port, timeout=10)
form = urllib.parse.urlencode({"email": "recruiter@clearance.test", "password": "demo-recruiter-password"})
conn.request("POST", "/api/login", body=form, headers={
    "content-type": "application/x-www-form-urlencoded", "origin": f"http://{a_url.netloc}"})
res = conn.getresponse()
res.read()
cookie = next((c.split(";")[0] for c in res.headers.get_all("set-cookie") or [] if c.startswith("clearance_session=")), None)
if res.status != 200 or not cookie:
    sys.exit(f"could not sign in on {a_url.netloc}: HTTP {res.status}")

told = queue.Queue()
def listen():
    s = http.client.HTTPConnection(a_url.hostname, a_url.port, timeout=60)
    s.request("GET", "/events", headers={"cookie": cookie, "accept": "text/event-stream"})
    r = s.getresponse()
    while True:
        line = r.readline()
        if not line:
            return
        line = line.decode().strip()
        if line.startswith("data:"):
            told.put((time.monotonic(), json.loads(line[5:]).get("candidate_id")))
threading.Thread(target=listen, daemon=True).start()
time.sleep(1.0)

run = f"{int(time.time()):x}"
took = []
for i in range(rounds):
    candidate = 40 + i
    wid, now = f"msg_cross_{run}_{i}", int(time.time())
    body = json.dumps({"type": "verification.completed", "data": {
        "candidate_id": str(candidate), "session_id": f"sess_cross_{run}_{i}",
        "event_created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "risk_tier": "low", "reason_codes": [], "policy_name": "standard"}}, separators=(",", ":"))
    sig = base64.b64encode(hmac.new(key, f"{wid}.{now}.{body}".encode(), hashlib.sha256).digest()).decode()
    w = http.client.HTTPConnection(b_url.hostname, b_url.port, timeout=10)
    sent = time.monotonic()
    w.request("POST", "/webhooks/verification", body=body, headers={
        "content-type": "application/json", "webhook-id": wid, "webhook-timestamp": str(now), "webhook-signature": f"v1,{sig}"})
    status = w.getresponse().status
    if status // 100 != 2:
        sys.exit(f"instance B answered the webhook with HTTP {status}")
    while True:
        try:
            at, who = told.get(timeout=10)
        except queue.Empty:
            sys.exit(f"the change to candidate {candidate} never reached the stream on instance A")
        if who == candidate:
            took.append((at - sent) * 1000)
            break
    time.sleep(0.3)
took.sort()
print(f"webhook on instance B → stream on instance A: median {took[len(took) // 2]:.0f} ms, slowest {took[-1]:.0f} ms ({rounds} webhooks)")
