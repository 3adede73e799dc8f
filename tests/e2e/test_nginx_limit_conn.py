"""The optional per-address connection cap of the nginx configuration (issue 16, item 3), and gzip for scripts.

``render_nginx.py --limit-conn N`` adds ``limit_conn_zone`` / ``limit_conn`` so one address can hold at most N
open connections (tabs: one websocket each); the (N+1)-th gets HTTP 429. Checked against Debian's real nginx in
front of a stand-in upstream that holds every request open for a moment, like a websocket does. Without the
option the configuration has no cap (a campus NAT puts a whole class behind one address).
"""

from __future__ import annotations

import gzip
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deploy import render_nginx
from tests.e2e.conftest import REQUIRED, _free_port

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


SCRIPT = b"function f(x) { return x * x; }\n" * 2000  # stands in for Streamlit's uncompressed JavaScript


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 — http.server's name
        if self.path.endswith(".js"):
            body, kind = SCRIPT, "application/javascript"
        else:
            time.sleep(1.5)
            body, kind = b"ok", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize("cap", [0, 2])
def test_limit_conn_caps_connections_per_address(tmp_path, cap):
    if NGINX is None:
        if REQUIRED:
            pytest.fail("nginx is required (REQUIRE_BROWSER=1) but not installed")
        pytest.skip("nginx not installed (apt-get install -y nginx)")
    upstream = ThreadingHTTPServer(("127.0.0.1", _free_port()), _Slow)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = _free_port()
    conf = render_nginx.render(listen=f"127.0.0.1:{port}", base="regopt",
                               replicas=[f"127.0.0.1:{upstream.server_address[1]}"], prefix=tmp_path,
                               limit_conn=cap)
    text = (tmp_path / "regopt.conf").read_text()
    assert ("limit_conn regopt_per_addr" in text) == (cap > 0)
    subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)],
                   check=True, capture_output=True)
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf)])
    try:
        url = f"http://127.0.0.1:{port}/regopt/x"
        for _ in range(100):  # nginx is up when its port accepts a connection
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with ThreadPoolExecutor(4) as pool:
            codes = sorted(pool.map(_status, [url] * 4))
        req = urllib.request.Request(f"http://127.0.0.1:{port}/regopt/static/js/index.js",
                                     headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.headers.get("Content-Encoding") == "gzip", "scripts are served compressed through nginx"
            packed = r.read()
        assert gzip.decompress(packed) == SCRIPT and len(packed) < len(SCRIPT) / 4
        if cap:
            assert codes.count(200) == cap and codes.count(429) == 4 - cap, codes
        else:
            assert codes == [200] * 4, codes
    finally:
        proc.terminate()
        proc.wait(10)
        upstream.shutdown()
