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
