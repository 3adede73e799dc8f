"""Fill the shared result store: ``python -m deploy.precompute [--store DIR] [--force]``.

Runs every registered page in Streamlit's AppTest at its default settings and at every prepared state
(the registry's deep links, and the extra states a page declares with ``PageSpec.precompute``), with heavy
work computed in-process, and writes every ``regopt_core`` result those runs computed into the store:
``<store>/<code version>/<hash of key>.pkl`` (``pages/_ui/cached``). The code version is a hash of the
core's source, so a store written by other code is never read; stores of other versions are deleted.
Replicas open the store read-only. The Dockerfile and ``deploy/run_replicas.sh`` run this step, and a
server that starts without a store for its code version runs it once in the background.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPLETE = "COMPLETE"


class StaleBuild(RuntimeError):
    """The core's source changed while the store was being built."""


def _states(spec) -> list[dict[str, str]]:
    states = [{}] + [dict(d) for d in spec.deep_links]
    if getattr(spec, "precompute_links", None):
        states += [dict(d) for d in spec.precompute_links]
    return states


def build(*, force: bool = False, quiet: bool = False) -> Path:
    os.environ["REGOPT_WORKERS"] = "0"  # heavy work in this process (no pool inside the build)
    os.environ.setdefault("REGOPT_MEMO_MB", "6000")  # keep every result of the build until it is written
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from streamlit.testing.v1 import AppTest

    from pages._ui import cached, registry

    target = cached.store_dir()
    if (target / COMPLETE).exists() and not force:
        if not quiet:
            print(f"precompute: store {target} is complete for this code version")
        return target
    root = cached.store_root()
    if root.exists():  # stale stores of other code versions are never used: remove them
        for old in root.iterdir():
            if old.is_dir() and old.name != target.name:
                shutil.rmtree(old, ignore_errors=True)
    t0 = time.monotonic()
    version = cached.code_version()

    def still_current() -> None:  # a build for code that changed meanwhile would only write a stale store
        if cached.code_version(fresh=True) != version:
            raise StaleBuild(f"the code changed during the build (store {version} is stale); nothing was written")

    for fn, config in cached.warm_pairs():
        still_current()
        cached.RESULTS.put(cached.key_of(fn, config), fn(config))
    for spec in registry.PAGES:
        for state in _states(spec):
            still_current()
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            for k, v in state.items():
                at.query_params[k] = v
            at.run()
            if not spec.default:
                at.switch_page(spec.path).run()
            if at.exception and not quiet:
                print(f"precompute: {spec.url_path} {state} raised: {at.exception[0].message[:200]}")
    for extra in getattr(registry, "PRECOMPUTE", ()):  # (fn, config) pairs beyond the pages' states
        for fn, config in extra():
            still_current()
            key = cached.key_of(fn, config)
            if key not in cached.RESULTS:
                cached.RESULTS.put(key, fn(config))
    still_current()
    n = 0
    for key, value in cached.RESULTS.items():
        if isinstance(key, tuple) and str(key[0]).startswith("regopt_core"):
            cached.store_put(key, value)
            n += 1
    (target / COMPLETE).write_text(f"{n} results in {time.monotonic() - t0:.0f} s\n")
    if not quiet:
        print(f"precompute: wrote {n} results to {target} in {time.monotonic() - t0:.0f} s")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.precompute", description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="store folder (default: $REGOPT_STORE or .regopt_store)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the store is complete")
    args = parser.parse_args(argv)
    if args.store:
        os.environ["REGOPT_STORE"] = args.store
    try:
        build(force=args.force)
    except StaleBuild as exc:
        print(f"precompute: stopped: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
