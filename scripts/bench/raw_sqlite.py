#!/usr/bin/env python3
"""The disk's raw SQLite write ceiling: one ~600-byte row per committed transaction in WAL mode,
for SECONDS each with synchronous=NORMAL and =FULL. Prints "normal RATE" and "full RATE" (rows/s).

  raw_sqlite.py DIR SECONDS
"""
import os, sqlite3, sys, time

directory, seconds = sys.argv[1], float(sys.argv[2])
row = "x" * 600
for mode in ("normal", "full"):
    path = os.path.join(directory, f"raw_{mode}.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={mode.upper()}")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        db.execute("BEGIN")
        db.execute("INSERT INTO t (body) VALUES (?)", (row,))
        db.execute("COMMIT")
        n += 1
    print(mode, round(n / (time.monotonic() - start)))
    db.close()
    for suffix in ("", "-wal", "-shm"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
