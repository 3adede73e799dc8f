#!/usr/bin/env python3
"""Exit 0 when the Streamlit server answers ``ok`` on ``/<baseUrlPath>/_stcore/health``, else 1.

Used by the Dockerfile's HEALTHCHECK (python:slim has no curl) and by deploy/run_replicas.sh. Defaults come
from the same environment variables Streamlit reads (``STREAMLIT_SERVER_PORT``, ``STREAMLIT_SERVER_BASE_URL_PATH``).
"""

import argparse
import os
import sys
import urllib.request


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", default=os.environ.get("STREAMLIT_SERVER_PORT", "8501"))
    ap.add_argument("--base", default=os.environ.get("STREAMLIT_SERVER_BASE_URL_PATH", ""))
    ap.add_argument("--timeout", type=float, default=4.0)
    args = ap.parse_args()
    base = args.base.strip("/")
    url = f"http://{args.host}:{args.port}/{base + '/' if base else ''}_stcore/health"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as r:
            return 0 if r.read().strip() == b"ok" else 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
