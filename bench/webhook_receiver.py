"""A merchant's receiver for the webhook delivery benchmark: answers 200 at once, or after a delay for paths under
/slow (without blocking other requests), and counts POSTs per path.

Run as its own process (`python bench/webhook_receiver.py PORT SLOW_SECONDS`) so it does not share the delivering
process's CPU time. `GET /count` returns {path: count} as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter

received: Counter[str] = Counter()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, slow: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            method, path = head.split(b" ", 2)[:2]
            if method == b"GET" and path == b"/count":
                body = json.dumps(received).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            else:
                if path.startswith(b"/slow"):
                    await asyncio.sleep(slow)
                received[path.decode()] += 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def main(port: int, slow: float) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, slow), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 2.0))
