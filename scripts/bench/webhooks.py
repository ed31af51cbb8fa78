#!/usr/bin/env python3
"""Writes N distinct signed verification webhooks, one per line (id, timestamp, signature, body,
tab-separated), for scripts/bench/webhooks.lua to replay. Standard Webhooks signing:
base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) with key = base64 of the whsec_ secret.

  webhooks.py SECRET COUNT CANDIDATES > events.tsv
"""
import base64, hashlib, hmac, json, sys, time, datetime

secret, count, candidates = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
key = base64.b64decode(secret.removeprefix("whsec_"))
now = int(time.time())
created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
run = f"{now:x}"
out = sys.stdout
for i in range(count):
    wid = f"msg_bench_{run}_{i}"
    # Most sessions finish verified; one in five needs a person (opens a review item).
    kind = "verification.needs_review" if i % 5 == 0 else "verification.completed"
    body = json.dumps({
        "type": kind,
        "data": {
            "candidate_id": str(i % candidates + 1),
            "session_id": f"sess_bench_{run}_{i}",
            "event_created_at": created,
            "risk_tier": ("low", "medium", "high")[i % 3],
            "reason_codes": ["DOC_GLARE"] if i % 5 == 0 else [],
            "policy_name": "standard",
        },
    }, separators=(",", ":"))
    msg = f"{wid}.{now}.{body}".encode()
    sig = base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()
    out.write(f"{wid}\t{now}\tv1,{sig}\t{body}\n")
