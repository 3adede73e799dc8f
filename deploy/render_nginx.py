#!/usr/bin/env python3
"""Render the nginx configuration for RegOpt Lab from the templates in deploy/nginx/.

    python deploy/render_nginx.py --listen 8080 --base regopt \
        --replica 127.0.0.1:8501 --replica 127.0.0.1:8502 --prefix /tmp/regopt-nginx

writes ``<prefix>/regopt.conf`` (the http-context part: sticky upstream, sub-path, websocket upgrade) and
``<prefix>/nginx.conf`` (a standalone main config that includes it), and creates ``<prefix>/tmp/``.
Run nginx with ``nginx -p <prefix> -e <prefix>/error.log -c <prefix>/nginx.conf``. With ``--http-only`` only
``regopt.conf`` is written, for ``/etc/nginx/conf.d/``. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent / "nginx"


def _fill(template: str, values: dict[str, str]) -> str:
    out = template
    for key, value in values.items():
        out = out.replace(f"@@{key}@@", value)
    left = re.findall(r"@@[A-Z_]+@@", out)
    if left:
        raise ValueError(f"unfilled placeholders: {sorted(set(left))}")
    return out


def limit_conn_lines(limit_conn: int) -> tuple[str, str]:
    """The http-context zone and the location directive for an optional per-address connection cap (0 = none)."""
    if limit_conn < 0:
        raise ValueError(f"--limit-conn must be >= 0, got {limit_conn}")
    if limit_conn == 0:
        return "# (no per-address connection cap: --limit-conn 0)", "        # (no limit_conn)"
    return ("limit_conn_zone $binary_remote_addr zone=regopt_per_addr:10m;",
            f"        limit_conn regopt_per_addr {limit_conn};\n        limit_conn_status 429;")


def render(*, listen: str, base: str, replicas: list[str], prefix: Path, access_log: str | None = None,
           http_only: bool = False, limit_conn: int = 0) -> Path:
    base = base.strip("/")
    if not re.fullmatch(r"[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*", base):
        raise ValueError(f"--base must be a plain URL path such as 'regopt', got {base!r}")
    if not replicas:
        raise ValueError("at least one --replica host:port")
    prefix = prefix.resolve()
    prefix.mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"    server {r};" for r in replicas)
    zone, directive = limit_conn_lines(limit_conn)
    http = _fill((HERE / "regopt.conf.template").read_text(), {
        "LISTEN": listen, "BASE": base, "SERVERS": servers, "LIMIT_CONN_ZONE": zone, "LIMIT_CONN": directive,
        "ACCESS_LOG": access_log or str(prefix / "access.log"),
    })
    (prefix / "regopt.conf").write_text(http)
    if http_only:
        return prefix / "regopt.conf"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        d = prefix / "tmp" / sub
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o777)  # nginx workers started by root run as 'nobody'
    os.chmod(prefix / "tmp", 0o755)
    main = _fill((HERE / "standalone.conf.template").read_text(), {"PREFIX": str(prefix)})
    (prefix / "nginx.conf").write_text(main)
    return prefix / "nginx.conf"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", default="8080", help="nginx listen address, e.g. 8080 or 127.0.0.1:8080")
    ap.add_argument("--base", default="regopt", help="the sub-path (server.baseUrlPath of every replica)")
    ap.add_argument("--replica", action="append", default=[], help="host:port of a replica (repeat)")
    ap.add_argument("--prefix", type=Path, required=True, help="directory for the rendered files")
    ap.add_argument("--access-log", help="access log path (default <prefix>/access.log)")
    ap.add_argument("--http-only", action="store_true", help="write only regopt.conf (for /etc/nginx/conf.d)")
    ap.add_argument("--limit-conn", type=int, default=0,
                    help="cap open connections (tabs) per client address (0 = no cap). Behind a campus NAT the "
                         "whole class shares one address: leave it at 0 there.")
    args = ap.parse_args(argv)
    print(render(listen=args.listen, base=args.base, replicas=args.replica, prefix=args.prefix,
                 access_log=args.access_log, http_only=args.http_only, limit_conn=args.limit_conn))


if __name__ == "__main__":
    main()
