#!/usr/bin/env python3
"""Open one session on a Streamlit server and wait for its first run, so that the app's start-up work
(``warm_defaults()`` in app.py: the default views of every page) is done before students arrive.

    python deploy/warm.py --port 8501 --base regopt [--page losses ...]

Talks to the replica directly (not through nginx, which would pick one replica). Uses only what
``streamlit`` itself installs (protobuf, websockets). Exit 1 if a run does not finish in --timeout seconds.
"""

import argparse
import asyncio
import os
import sys
import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect


async def _connect(url: str, timeout: float):
    """Connect, retrying while the server is still starting (up to ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=10)
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def warm(url: str, pages: list[str], timeout: float) -> None:
    async with await _connect(url, timeout) as ws:
        for page in pages:
            msg = BackMsg()
            msg.rerun_script.page_name = page
            t0 = time.perf_counter()
            await ws.send(msg.SerializeToString())
            while True:
                fm = ForwardMsg()
                fm.ParseFromString(await asyncio.wait_for(ws.recv(), timeout))
                if fm.WhichOneof("type") == "script_finished" and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    break
            print(f"warm: {url} page {page or '(default)'!r} in {time.perf_counter() - t0:.1f} s")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", default=os.environ.get("STREAMLIT_SERVER_PORT", "8501"))
    ap.add_argument("--base", default=os.environ.get("STREAMLIT_SERVER_BASE_URL_PATH", ""))
    ap.add_argument("--page", action="append", default=None, help="url_path to open (default: the home page)")
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    base = args.base.strip("/")
    url = f"ws://{args.host}:{args.port}/{base + '/' if base else ''}_stcore/stream"
    try:
        asyncio.run(warm(url, args.page or [""], args.timeout))
    except (OSError, TimeoutError) as exc:
        print(f"warm: {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
