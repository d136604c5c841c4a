"""A small TCP proxy: forwards each connection to one of its backends, round robin, skipping a backend that does not
accept within a second (a host that died or left the network). With one backend it is a plain forwarder (the
scale-out test reaches PostgreSQL on 127.0.0.1 from other network namespaces through it); with several it is the
load balancer in front of the web hosts (HTTP and WebSockets alike: it does not look inside).

    python -m tests.support.tcp_proxy LISTEN_HOST:PORT BACKEND_HOST:PORT [BACKEND_HOST:PORT ...]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys

CONNECT_TIMEOUT = 1.0
_CHUNK = 65536


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


class Proxy:
    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        first = next(self._next)
        for offset in range(len(self.backends)):
            host, port = self.backends[(first + offset) % len(self.backends)]
            try:
                return await asyncio.wait_for(asyncio.open_connection(host, port), CONNECT_TIMEOUT)
            except (TimeoutError, OSError):
                continue
        return None

    async def handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        backend = await self._open()
        if backend is None:  # every backend is down: the client sees its connection closed, and retries
            client_writer.close()
            return
        backend_reader, backend_writer = backend
        await asyncio.gather(_pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer))


async def serve(listen: tuple[str, int], backends: list[tuple[str, int]]) -> None:
    server = await asyncio.start_server(Proxy(backends).handle, *listen, backlog=1024)
    print(f"proxy {listen[0]}:{listen[1]} -> {', '.join(f'{h}:{p}' for h, p in backends)}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    asyncio.run(serve(_address(sys.argv[1]), [_address(arg) for arg in sys.argv[2:]]))
