"""Serve one peer under uvicorn with the flags every peer gets, and answer "how many handled?" on the side.

    python -m benchmarks.serve benchmarks.apps.starlette_app --port 8001

is ``uvicorn benchmarks.apps.starlette_app:app --port 8001 --workers 1 --loop uvloop --http httptools
--no-access-log``, plus a control port on the same event loop: connecting to it returns the peer's tally as
text. The count is read between load runs, so the request path carries nothing extra. ``--shared``: one of
several such processes on one port (the driver's ``--workers``). Prints one JSON line
``{"control": port}`` on stdout once the server accepts connections.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import socket
import sys

import uvicorn
import uvloop

#: The same for every peer: one worker on uvloop with the httptools parser, no access log.
UVICORN_FLAGS: dict[str, object] = {
    "workers": 1,
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_level": "warning",
    "lifespan": "auto",
}


def _shared_socket(host: str, port: int) -> socket.socket:
    """A listening socket other processes can bind too (SO_REUSEPORT): the kernel spreads connections over the
    worker processes, each with its own tally, as uvicorn's ``--workers`` spreads them over its children."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


async def _serve(module_name: str, host: str, port: int, shared: bool = False) -> None:
    module = importlib.import_module(module_name)
    tally = module.tally

    async def report(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(str(tally.count).encode())
        await writer.drain()
        writer.close()

    control = await asyncio.start_server(report, "127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(module.app, host=host, port=port, **UVICORN_FLAGS))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve([_shared_socket(host, port)] if shared else None))
    while not server.started:
        if serving.done():
            serving.result()  # raises why it stopped
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    print(json.dumps({"control": control.sockets[0].getsockname()[1]}), flush=True)
    await serving
    control.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("module", help="module holding `app` and `tally`")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--shared", action="store_true", help="one of several processes serving the port")
    args = parser.parse_args(argv)
    uvloop.run(_serve(args.module, args.host, args.port, args.shared))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
