#!/usr/bin/env python3
"""Holds N live-update streams (GET /events) open against Clearance for a while and reports how
many were answered 200 with text/event-stream. Usage: streams.py HOST PORT COOKIE N SECONDS.
Plain sockets and asyncio (no dependency): each stream sends its request, checks the status line
and headers, then reads whatever comes (heartbeats) until the time is up."""
import asyncio
import sys


async def one(host, port, cookie, seconds, ok):
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        return
    writer.write(
        f"GET /events HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    head = b""
    try:
        while b"\r\n\r\n" not in head:
            chunk = await asyncio.wait_for(reader.read(4096), timeout=10)
            if not chunk:
                return
            head += chunk
        text = head.decode("latin-1").lower()
        if text.startswith("http/1.1 200") and "text/event-stream" in text:
            ok.append(1)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            try:
                chunk = await asyncio.wait_for(reader.read(4096), timeout=max(0.1, end - loop.time()))
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
    finally:
        writer.close()


async def main():
    host, port, cookie, n, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    ok = []
    await asyncio.gather(*(one(host, port, cookie, seconds, ok) for _ in range(n)))
    print(len(ok))


asyncio.run(main())
