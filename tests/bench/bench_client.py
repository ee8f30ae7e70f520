#!/usr/bin/python3
"""The Python client's cost per training step, against the same loop without the client, in the same run.

    /usr/bin/python3 tests/bench/bench_client.py [STEPS]

Each loop does the same stand-in work per step (a few float operations). Measured, each the best of 5 rounds:
  baseline        the loop alone
  log (rank 1)    log({"loss": x}, step=i) on a rank that does not log its metrics: step timing only
  log+phases      the same with two `with phase(...)` blocks per step
  step()          an explicit trainyard_log.step() per step
  timing off      log() on rank 1 with TRAINYARD_STEP_TIMING=0 (the client's call without timing)
Timing writes one line a second per rank (TRAINYARD_PERF_INTERVAL_S=1), into a file under /tmp.
"""
import os
import sys
import tempfile
import time
import importlib

ROUNDS = 5
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "resources", "python"))
scratch = tempfile.mkdtemp(prefix="bench_client-")
os.environ["TRAINYARD_METRICS_FILE"] = os.path.join(scratch, "metrics.rank1.jsonl")
os.environ["RANK"] = "1"
# As under `trainyard launch`: the run folder is set, so every rank also looks for profile requests (twice a second).
os.environ["TRAINYARD_RUN_DIR"] = scratch


def load(timing):
    os.environ["TRAINYARD_STEP_TIMING"] = "1" if timing else "0"
    import trainyard_log
    return importlib.reload(trainyard_log)


def best(loop):
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        loop()
        times.append(time.perf_counter() - start)
    return min(times) / steps * 1e6  # microseconds per step


def baseline():
    x = 0.0
    for i in range(steps):
        x = x * 0.5 + i


def with_log(client):
    def loop():
        x = 0.0
        for i in range(steps):
            x = x * 0.5 + i
            client.log({"loss": x}, step=i)
    return loop


def with_phases(client):
    def loop():
        x = 0.0
        for i in range(steps):
            with client.phase("data"):
                x = x * 0.5
            with client.phase("compute"):
                x = x + i
            client.log({"loss": x}, step=i)
    return loop


def with_step(client):
    def loop():
        x = 0.0
        for i in range(steps):
            x = x * 0.5 + i
            client.step()
    return loop


timed = load(True)
rows = [("baseline", best(baseline))]
rows.append(("log (rank 1)", best(with_log(timed))))
timed = load(True)
rows.append(("log+phases", best(with_phases(timed))))
timed = load(True)
rows.append(("step()", best(with_step(timed))))
untimed = load(False)
rows.append(("timing off", best(with_log(untimed))))
base = rows[0][1]
print("%-14s %12s %14s" % ("loop", "us/step", "over baseline"))
for name, micros in rows:
    print("%-14s %12.3f %14.3f" % (name, micros, micros - base))
