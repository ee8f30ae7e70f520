"""Trainyard's metric logging client: one file, standard library only.

    from trainyard_log import log
    log({"loss": 0.31, "lr": 3e-4}, step=12)

Under Trainyard each call appends one JSON line to $TRAINYARD_METRICS_FILE, which Trainyard
tails into its workspace. Only rank 0 logs by default (set all_ranks=True in configure(), or
TRAINYARD_LOG_ALL_RANKS=1, to log from every rank: other ranks' keys appear as rank<N>/<key>).
On import it registers faulthandler on SIGUSR1, so a hung rank prints every thread's Python
stack into its log when Trainyard asks. Without Trainyard it warns once and does nothing.
"""

import faulthandler
import json
import math
import os
import signal
import sys
import threading
import time
import warnings

__all__ = ["log", "configure", "enabled"]

_lock = threading.Lock()
_file = None
_warned = False
_next_step = 0
_all_ranks = os.environ.get("TRAINYARD_LOG_ALL_RANKS", "") not in ("", "0", "false", "False")


def _rank():
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def _register_stack_dumps():
    # Trainyard sends SIGUSR1 to every rank of a run it believes hung; dump all threads' stacks to stderr.
    if hasattr(signal, "SIGUSR1") and threading.current_thread() is threading.main_thread():
        try:
            faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True, chain=False)
        except (RuntimeError, ValueError, OSError):
            pass


_register_stack_dumps()


def configure(all_ranks=None):
    """Log from every rank (all_ranks=True) instead of rank 0 only."""
    global _all_ranks
    if all_ranks is not None:
        _all_ranks = bool(all_ranks)


def enabled():
    """True when running under Trainyard and this rank logs."""
    return bool(os.environ.get("TRAINYARD_METRICS_FILE")) and (_all_ranks or _rank() == 0)


def _encode(value):
    # JSON has no NaN or infinity; write them as strings, which Trainyard reads back as numbers.
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if hasattr(value, "item") and callable(value.item):  # a 0-d tensor or numpy scalar
        return _encode(value.item())
    return value


def log(metrics, step=None):
    """Append one line of metrics. step defaults to one more than the last step logged."""
    global _file, _warned, _next_step
    path = os.environ.get("TRAINYARD_METRICS_FILE")
    if not path:
        if not _warned:
            _warned = True
            warnings.warn("trainyard_log: TRAINYARD_METRICS_FILE is not set (not running under Trainyard); "
                          "metrics are not recorded", RuntimeWarning, stacklevel=2)
        return
    if not _all_ranks and _rank() != 0:
        return
    if not isinstance(metrics, dict):
        raise TypeError("trainyard_log.log expects a dict of metric name to number, got %s" % type(metrics).__name__)
    with _lock:
        if step is None:
            step = _next_step
        step = int(step)
        _next_step = step + 1
        record = {"step": step, "ts": round(time.time(), 3)}
        for key, value in metrics.items():
            if key in ("step", "ts"):
                raise ValueError("trainyard_log.log: '%s' is reserved" % key)
            record[str(key)] = _encode(value)
        if _file is None:
            _file = open(path, "a", buffering=1, encoding="utf-8")
        # One write per line, so a concurrent reader never sees half a record followed by another.
        _file.write(json.dumps(record, separators=(",", ":")) + "\n")
        _file.flush()
