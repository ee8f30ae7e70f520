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

Checkpoints: save them under checkpoint_dir() ($TRAINYARD_CHECKPOINT_DIR, the run folder's checkpoints/ unless the
spec says otherwise) and Trainyard finds them once they are whole; or say so after saving, anywhere:
`trainyard_log.checkpoint(path, step, loss=0.31)` (the metrics are kept with the checkpoint).

Profiles on demand (`trainyard profile RUN`, or "Profile next N steps" on the run page): Trainyard writes a request
into $TRAINYARD_RUN_DIR/profile/request.json; each chosen rank notices it at a step boundary (it looks twice a
second), wraps its next N steps in torch.profiler (CPU, plus CUDA when present), marks each step as ProfilerStep#<step>,
writes profile/<id>/rank<N>.json (a Chrome trace) and rank<N>.status.json, and goes on. The profiled steps are left out
of the step timing. Without torch or its profiler the rank says so in its status file and goes on.
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

__all__ = ["log", "configure", "enabled", "step", "phase", "checkpoint", "checkpoint_dir", "artifact"]

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
_PROFILE_POLL_S = 0.5  # how often a rank looks for a profile request
_MAX_PROFILE_STEPS = 1000


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

    __slots__ = ("last_boundary", "last_step", "steps", "total", "phases", "step_phases", "window_start", "prefix")

    def __init__(self):
        self.last_boundary = None  # perf_counter() at the last boundary
        self.last_step = None  # the step the last boundary closed (log()'s step, or a count for step())
        self.steps = 0  # steps in the current window
        self.total = 0.0  # their summed time (s)
        self.phases = {}  # name -> summed time (s) in the window
        self.step_phases = {}  # name -> time (s) in the step under way
        self.window_start = None
        self.prefix = "perf/rank%d/" % _rank()

    def boundary(self, step, now, excluded=False):
        # `excluded`: the step that ends here was profiled; its time (and its phases) say nothing of the run's.
        if self.last_boundary is not None and not excluded:
            self.steps += 1
            self.total += now - self.last_boundary
            for name, seconds in self.step_phases.items():
                self.phases[name] = self.phases.get(name, 0.0) + seconds
        elif self.last_boundary is None:  # the first boundary only starts the clock: what came before it is no step
            self.window_start = now
            self.phases = {}
        if self.step_phases:
            self.step_phases = {}
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


def _write_json_atomically(path, value):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(value, out)
    os.replace(tmp, path)


class _Profiler:
    """Answers Trainyard's profile requests: torch.profiler around the next N steps, one Chrome trace per rank."""

    def __init__(self, run_dir):
        self.request_path = os.path.join(run_dir, "profile", "request.json")
        self.next_poll = 0.0
        self.seen_mtime = None
        self.handled = None  # the id of the last request this rank took up (or refused)
        self.session = None  # the request under way: dict with the profiler, its step range and files
        self.step_profiled = False  # the step under way is profiled (or carries the trace's export)
        self.exports = []  # export threads still writing

    def boundary(self, step, now):
        """Called at every step boundary (holding _lock); `step` is the step that just ended."""
        if self.session is not None:
            self._advance(step)
        elif self.step_profiled:
            self.step_profiled = False
        if now >= self.next_poll and self.session is None:
            self.next_poll = now + _PROFILE_POLL_S
            self._poll(step)

    def _poll(self, step):
        try:
            mtime = os.stat(self.request_path).st_mtime_ns
        except OSError:
            return
        if mtime == self.seen_mtime:
            return
        self.seen_mtime = mtime
        try:
            with open(self.request_path, encoding="utf-8") as f:
                request = json.load(f)
            request_id = str(request["id"])
            steps = int(request["steps"])
            ranks = request.get("ranks")
            expires_ms = int(request.get("expires_ms", 0))
        except (OSError, ValueError, KeyError, TypeError):
            return  # half-written or foreign: the next change of the file is looked at again
        if request_id == self.handled or not request_id.replace("-", "").isalnum():
            return
        if ranks is not None and _rank() not in ranks:
            return
        folder = os.path.join(os.path.dirname(self.request_path), request_id)
        status_path = os.path.join(folder, "rank%d.status.json" % _rank())
        if os.path.exists(status_path) or (expires_ms and time.time() * 1000 > expires_ms):
            return  # answered before this process started (a restart), or too late to answer
        self.handled = request_id
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            return
        status = {"rank": _rank(), "request": request_id, "pid": os.getpid()}
        steps = max(1, min(steps, _MAX_PROFILE_STEPS))
        try:
            import torch
            from torch.profiler import ProfilerActivity, profile, record_function
        except Exception as error:  # no torch, or a torch without its profiler
            status.update(state="failed", error="torch.profiler is not available in this rank's Python (%s): %s"
                          % (sys.executable, error))
            _write_json_atomically(status_path, status)
            return
        try:
            activities = [ProfilerActivity.CPU]
            if torch.cuda.is_available():
                activities.append(ProfilerActivity.CUDA)
            profiler = profile(activities=activities)
            profiler.__enter__()
            first = step + 1
            marker = record_function("ProfilerStep#%d" % first)
            marker.__enter__()
        except Exception as error:
            status.update(state="failed", error="torch.profiler could not start: %s" % error)
            _write_json_atomically(status_path, status)
            return
        self.session = {"profiler": profiler, "marker": marker, "record_function": record_function,
                        "remaining": steps, "first": first, "last": first, "folder": folder,
                        "status_path": status_path, "status": status,
                        "activities": ["cpu"] + (["cuda"] if len(activities) > 1 else []),
                        "torch": getattr(torch, "__version__", "?")}
        self.step_profiled = True
        status.update(state="profiling", first_step=first, steps=steps, started=round(time.time(), 3))
        _write_json_atomically(status_path, status)

    def _advance(self, step):
        session = self.session
        session["marker"].__exit__(None, None, None)
        session["last"] = step
        session["remaining"] -= 1
        if session["remaining"] > 0:
            session["marker"] = session["record_function"]("ProfilerStep#%d" % (step + 1))
            session["marker"].__enter__()
            return
        self._finish()

    def _finish(self, marker_open=False):
        session, self.session = self.session, None
        self.step_profiled = True  # the step after the last profiled one carries the export
        if marker_open:
            session["marker"].__exit__(None, None, None)
        try:
            session["profiler"].__exit__(None, None, None)
        except Exception as error:
            session["status"].update(state="failed", error="torch.profiler failed to stop: %s" % error)
            _write_json_atomically(session["status_path"], session["status"])
            return
        # The trace is written by a thread, so the steps after the profiled ones go on; it is not a daemon, so a
        # script that ends meanwhile still leaves the whole trace.
        export = threading.Thread(target=self._export, args=(session,), name="trainyard-profile-export")
        export.start()
        self.exports.append(export)

    @staticmethod
    def _export(session):
        status = session["status"]
        trace_name = "rank%d.json" % _rank()
        trace_path = os.path.join(session["folder"], trace_name)
        tmp = trace_path + ".tmp-%d" % os.getpid()
        try:
            session["profiler"].export_chrome_trace(tmp)
            os.replace(tmp, trace_path)
            status.update(state="done", trace=trace_name, first_step=session["first"], last_step=session["last"],
                          bytes=os.path.getsize(trace_path), activities=session["activities"],
                          torch=session["torch"], finished=round(time.time(), 3))
        except Exception as error:
            status.update(state="failed", error="the trace could not be written: %s" % error)
            try:
                os.remove(tmp)
            except OSError:
                pass
        _write_json_atomically(session["status_path"], status)

    def at_exit(self):
        if self.session is not None:  # the script ended before the N steps: the steps profiled so far are kept
            self.session["status"]["ended_early"] = True
            self._finish(marker_open=True)
        for export in self.exports:
            export.join()


_run_dir = os.environ.get("TRAINYARD_RUN_DIR")
_profiler = _Profiler(_run_dir) if _run_dir and os.environ.get("TRAINYARD_METRICS_FILE") else None
_boundary_step = None  # the step the last boundary closed
_explicit_steps = False  # step() was called: log() no longer marks boundaries


def _boundary(step, now):
    """A step ended (the caller holds _lock)."""
    global _boundary_step
    _boundary_step = step
    if _timer is not None:
        _timer.boundary(step, now, _profiler is not None and _profiler.step_profiled)
    if _profiler is not None:
        _profiler.boundary(step, now)


@atexit.register
def _at_exit():
    # The steps since the last write are written at exit too (a short run still gets its step times), and a profile
    # under way is closed and written.
    with _lock:
        if _timer is not None and _timer.steps:
            _timer.flush(_clock())
        if _profiler is not None and _profiler.session is not None:
            _profiler.at_exit()
    if _profiler is not None:
        for export in _profiler.exports:
            export.join()


_phase_name_ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def step(step=None):
    """Mark the end of a training step (instead of relying on log() calls that advance the step)."""
    global _explicit_steps
    if not os.environ.get("TRAINYARD_METRICS_FILE"):
        return
    now = _clock()
    with _lock:
        _explicit_steps = True
        if step is None:
            step = (_boundary_step + 1) if _boundary_step is not None else 0
        _boundary(int(step), now)


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
            phases = _timer.step_phases
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
        if not _explicit_steps and (_boundary_step is None or step > _boundary_step):
            _boundary(step, now)
        if not _all_ranks and _rank() != 0:
            return
        record = {}
        for key, value in metrics.items():
            if key in ("step", "ts"):
                raise ValueError("trainyard_log.log: '%s' is reserved" % key)
            record[str(key)] = _encode(value)
        _write_line(step, record)


def checkpoint_dir():
    """The folder this run saves its checkpoints in ($TRAINYARD_CHECKPOINT_DIR), created; "checkpoints" without
    Trainyard."""
    path = os.environ.get("TRAINYARD_CHECKPOINT_DIR") or "checkpoints"
    os.makedirs(path, exist_ok=True)
    return path


def checkpoint(path, step=None, **metrics):
    """Tell Trainyard that a checkpoint was saved at `path` (a file or a folder), for `step` (default: the last step
    logged), with the metrics given (loss=0.31). Call it after the save has finished."""
    run_dir = os.environ.get("TRAINYARD_RUN_DIR")
    if not run_dir:
        return
    if step is None:
        step = _boundary_step if _boundary_step is not None else max(0, _next_step - 1)
    record = {"path": os.path.abspath(os.fspath(path)), "step": int(step), "ts": round(time.time(), 3),
              "rank": _rank(), "metrics": {str(k): _encode(v) for k, v in metrics.items()}}
    line = json.dumps(record, separators=(",", ":")) + "\n"
    with _lock:
        # One write per line, so that Trainyard never reads half of one.
        with open(os.path.join(run_dir, "checkpoints.rank%d.jsonl" % _rank()), "a", encoding="utf-8") as out:
            out.write(line)


def artifact(path, name=None):
    """Keep a copy of a file or folder with the run: it goes to the run folder's artifacts/<name> (default: its own
    name), written under a temporary name and renamed, so that Trainyard never shows half of it. Returns the copy's
    path (None without Trainyard)."""
    import shutil
    run_dir = os.environ.get("TRAINYARD_RUN_DIR")
    if not run_dir:
        return None
    source = os.fspath(path)
    name = os.path.basename(os.path.normpath(source)) if name is None else str(name)
    if not name or name in (".", "..") or "/" in name or name.startswith("."):
        raise ValueError("trainyard_log.artifact: %r is not a name for an artifact (no '/', not hidden)" % name)
    folder = os.path.join(run_dir, "artifacts")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, name)
    partial = os.path.join(folder, ".%s.partial-%d" % (name, os.getpid()))
    if os.path.isdir(source):
        shutil.copytree(source, partial)
    else:
        shutil.copy2(source, partial)
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    os.replace(partial, target)
    return target
