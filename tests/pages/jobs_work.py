"""Work functions for the job-pool tests (module-level, so spawned workers can import them)."""

import os
import time


def sleep_then_echo(cfg):
    """``cfg = (seconds, tag)``: sleep, then return ``(tag, worker pid)``."""
    seconds, tag = cfg
    time.sleep(seconds)
    return tag, os.getpid()


def pid(cfg):
    return os.getpid()


def loaded_packages(cfg):
    """The top-level packages a worker has imported, and whether its BLAS runs one thread."""
    import sys

    from threadpoolctl import threadpool_info

    return sorted({m.split(".")[0] for m in sys.modules}), [i["num_threads"] for i in threadpool_info()]


def sweep_like(cfg):
    """A kind of job that runs long (a stand-in for a CT sweep): ``cfg = (seconds, tag)``."""
    return sleep_then_echo(cfg)


def echo(cfg):
    """A job of a kind that finishes in milliseconds (a stand-in for a bias–variance fit)."""
    return cfg


def projector_cap(cfg):
    """The CT system-matrix budget of this worker process (bytes)."""
    from regopt_core.ct import lab

    return lab.PROJECTOR_CACHE_BYTES
