#!/usr/bin/env python3
"""Sends COUNT distinct signed verification webhooks at RATE per second, the way a provider does:
an event that gets no 2xx (refused, reset, timed out, 5xx) is sent again after a short pause
until it gets one, to the next instance in URLS (a load balancer's job), for at most DEADLINE s.

  sender.py SECRET COUNT RATE DEADLINE ACKED_FILE URL [URL...]

Writes the webhook id of every event answered 2xx to ACKED_FILE (one per line) and prints one
summary line: sent, acknowledged, how many needed a retry, how many got no answer at first.
Signing: Standard Webhooks, base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")).
"""
import base64, datetime, hashlib, hmac, http.client, json, sys, threading, time, urllib.parse

secret, count, rate, deadline, acked_file = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
urls = [urllib.parse.urlsplit(u) for u in sys.argv[6:]]
key = base64.b64decode(secret.removeprefix("whsec_"))
run = f"{int(time.time()):x}"

def event(i):
    now = int(time.time())
    wid = f"msg_chaos_{run}_{i}"
    body = json.dumps({
        "type": "verification.needs_review" if i % 7 == 0 else "verification.completed",
        "data": {
            "candidate_id": str(i % 50 + 1),
            "session_id": f"sess_chaos_{run}_{i}",
            "event_created_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "risk_tier": ("low", "medium", "high")[i % 3],
            "reason_codes": ["DOC_GLARE"] if i % 7 == 0 else [],
            "policy_name": "standard",
        },
    }, separators=(",", ":"))
    sig = base64.b64encode(hmac.new(key, f"{wid}.{now}.{body}".encode(), hashlib.sha256).digest()).decode()
    headers = {"content-type": "application/json", "webhook-id": wid, "webhook-timestamp": str(now), "webhook-signature": f"v1,{sig}"}
    return wid, headers, body

lock = threading.Lock()
acked, retried, unanswered, failed = [], 0, 0, []
start = time.monotonic()
next_i = 0

def post(url, headers, body):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        conn.request("POST", url.path, body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()

def worker():
    global next_i, retried, unanswered
    while True:
        with lock:
            i = next_i
            next_i += 1
        if i >= count:
            return
        pause = start + i / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        wid, headers, body = event(i)
        attempt = 0
        while True:
            url = urls[(i + attempt) % len(urls)]
            try:
                status = post(url, headers, body)
            except (OSError, http.client.HTTPException):
                status = None
            if status is not None and 200 <= status < 300:
                with lock:
                    acked.append(wid)
                    retried += attempt > 0
                break
            if status is not None and 400 <= status < 500:
                with lock:
                    failed.append(f"{wid}: HTTP {status}")
                break
            with lock:
                unanswered += attempt == 0
            attempt += 1
            if time.monotonic() - start > deadline:
                with lock:
                    failed.append(f"{wid}: no 2xx within {deadline:.0f} s")
                break
            time.sleep(0.2)

threads = [threading.Thread(target=worker) for _ in range(32)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(acked_file, "w") as f:
    f.write("".join(w + "\n" for w in acked))
print(json.dumps({"sent": count, "acknowledged": len(acked), "retried": retried, "unanswered_at_first": unanswered,
                  "failed": failed[:5], "failed_count": len(failed), "seconds": round(time.monotonic() - start, 1)}))
sys.exit(1 if failed else 0)
