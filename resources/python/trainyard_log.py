"""Trainyard's metric logging client: one file, standard library only.

    from trainyard_log import log
    log({"loss": 0.31, "lr": 3e-4}, step=12)

Under Trainyard each call appends one JSON line to $TRAINYARD_METRICS_FILE, which Trainyard
tails into its workspace. Only rank 0 logs by default (set all_ranks=True in configure(), or
TRAINYARD_LOG_ALL_RANKS=1, to log from every rank: other ranks' keys appear as rank<N>/<key>).
On import it registers faulthandler on SIGUSR1, so a hung rank prints every thread's Python
stack into its log when Trainyard asks. Without Trainyard it warns once and does nothing.

Step timing (every rank, whatever all_ranks says): the time between steps is measured from
consecutive log() calls that advance the step, or from explicit step() calls; phases marked with
`with phase("data"):` (any name) are timed within each step. Once a second (TRAINYARD_PERF_INTERVAL_S)
each rank writes the means over the steps since its last write as perf/rank<N>/step_time_ms and
perf/rank<N>/<phase>_ms, plus perf/rank<N>/steps (how many steps the means cover). A 1 ms step
does not write a line per step. TRAINYARD_STEP_TIMING=0 turns timing off.
"""

import atexit
import faulthandler
import json
import math
import os
import signal
import sys
import threading
import time
import warnings

__all__ = ["log", "configure", "enabled", "step", "phase"]

_lock = threading.Lock()
_file = None
_warned = False
_next_step = 0
_all_ranks = os.environ.get("TRAINYARD_LOG_ALL_RANKS", "") not in ("", "0", "false", "False")
_timing = os.environ.get("TRAINYARD_STEP_TIMING", "1") not in ("0", "false", "False")
try:
    _perf_interval = max(0.0, float(os.environ.get("TRAINYARD_PERF_INTERVAL_S", "1")))
except ValueError:
    _perf_interval = 1.0
_clock = time.perf_counter


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


class _StepTimer:
    """The time between step boundaries and of named phases within them, written as means once an interval."""

    __slots__ = ("last_boundary", "last_step", "explicit", "steps", "total", "phases", "window_start", "prefix")

    def __init__(self):
        self.last_boundary = None  # perf_counter() at the last boundary
        self.last_step = None  # the step the last boundary closed (log()'s step, or a count for step())
        self.explicit = False  # step() was called: log() no longer marks boundaries
        self.steps = 0  # steps in the current window
        self.total = 0.0  # their summed time (s)
        self.phases = {}  # name -> summed time (s) in the window
        self.window_start = None
        self.prefix = "perf/rank%d/" % _rank()

    def boundary(self, step, now):
        if self.last_boundary is not None:
            self.steps += 1
            self.total += now - self.last_boundary
        else:  # the first boundary only starts the clock: what came before it is no whole step
            self.window_start = now
            self.phases = {}
        self.last_boundary = now
        self.last_step = step
        if self.steps and now - self.window_start >= _perf_interval:
            self.flush(now)

    def flush(self, now):
        record = {self.prefix + "step_time_ms": round(1000.0 * self.total / self.steps, 4),
                  self.prefix + "steps": self.steps}
        for name, seconds in self.phases.items():
            record[self.prefix + name + "_ms"] = round(1000.0 * seconds / self.steps, 4)
        _write_line(self.last_step, record)
        self.steps = 0
        self.total = 0.0
        self.phases = {}
        self.window_start = now


_timer = _StepTimer() if _timing else None


@atexit.register
def _flush_timing():
    # The steps since the last write are written at exit too (a short run still gets its step times).
    if _timer is not None and _timer.steps:
        with _lock:
            _timer.flush(_clock())
_phase_name_ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def step(step=None):
    """Mark the end of a training step (instead of relying on log() calls that advance the step)."""
    if _timer is None or not os.environ.get("TRAINYARD_METRICS_FILE"):
        return
    now = _clock()
    with _lock:
        _timer.explicit = True
        if step is None:
            step = (_timer.last_step + 1) if _timer.last_step is not None else 0
        _timer.boundary(int(step), now)


class phase:
    """Time a part of each step: `with trainyard_log.phase("data"): batch = next(loader)`."""

    __slots__ = ("name", "start")

    def __init__(self, name):
        name = str(name)
        if not name or not set(name) <= _phase_name_ok or name in ("step_time", "steps"):
            raise ValueError("trainyard_log.phase: %r is not a phase name (letters, digits, _ and -)" % name)
        self.name = name

    def __enter__(self):
        self.start = _clock()
        return self

    def __exit__(self, *exc):
        if _timer is not None:
            elapsed = _clock() - self.start
            phases = _timer.phases
            phases[self.name] = phases.get(self.name, 0.0) + elapsed
        return False


def _write_line(step, record):
    """One JSON line into this rank's metrics file (the caller holds _lock)."""
    global _file
    path = os.environ.get("TRAINYARD_METRICS_FILE")
    if not path:
        return
    line = {"step": int(step), "ts": round(time.time(), 3)}
    line.update(record)
    if _file is None:
        _file = open(path, "a", buffering=1, encoding="utf-8")
    # One write per line, so a concurrent reader never sees half a record followed by another.
    _file.write(json.dumps(line, separators=(",", ":")) + "\n")
    _file.flush()


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
    if not isinstance(metrics, dict):
        raise TypeError("trainyard_log.log expects a dict of metric name to number, got %s" % type(metrics).__name__)
    now = _clock()
    with _lock:
        if step is None:
            step = _next_step
        step = int(step)
        _next_step = step + 1
        # Every rank times its steps, whether or not it logs its metrics.
        if _timer is not None and not _timer.explicit and (_timer.last_step is None or step > _timer.last_step):
            _timer.boundary(step, now)
        if not _all_ranks and _rank() != 0:
            return
        record = {}
        for key, value in metrics.items():
            if key in ("step", "ts"):
                raise ValueError("trainyard_log.log: '%s' is reserved" % key)
            record[str(key)] = _encode(value)
        _write_line(step, record)
