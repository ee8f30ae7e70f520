#!/usr/bin/env python3
"""Trainyard's Optuna helper: the TPE sampler of a `method: tpe` sweep, run by the queue as a child process.

Trainyard's queue (core/queue/bayesiansweep) speaks to it in JSON lines, one request on stdin, one reply on stdout:

  {"op": "open", "storage": "sqlite:////WORKSPACE/sweeps/ID/optuna.db", "study": "ID", "direction": "minimize",
   "seed": 7, "startup_trials": 10, "space": [{"param": "lr", "distribution": "log_uniform", "min": 1e-5, "max": 0.1},
   {"param": "opt", "distribution": "choice", "choices": ["adam", "sgd"]}], "known": [0, 1]}
      -> {"ok": true, "optuna": "3.1.0", "trials": 2, "failed_unknown": []}
      The study lives in the workspace, so a restarted queue goes on with it. A trial the study holds as running that
      the queue does not know (asked, then the queue stopped before it queued the run) is told failed.
  {"op": "ask"}
      -> {"ok": true, "trial": 3, "params": {"lr": "0.0012345", "opt": "adam"}}
  {"op": "tell", "trial": 3, "state": "complete", "value": 0.12}
  {"op": "tell", "trial": 4, "state": "pruned", "step": 100, "value": 2.3}   (stopped early at a rung)
  {"op": "tell", "trial": 5, "state": "fail"}
      -> {"ok": true}
  {"op": "close"}
      -> {"ok": true}, and the helper exits.

A request it cannot serve gets {"ok": false, "error": "..."}. `trainyard_optuna.py --check` prints
{"ok": true, "optuna": VERSION} when Optuna can be imported, else {"ok": false, "error": ...} and exits 1.
"""

import json
import sys


def reply(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def import_optuna():
    try:
        import optuna  # noqa: F401  (Debian: python3-optuna)
    except ImportError as error:
        raise SystemExit(json.dumps({"ok": False, "error": f"cannot import optuna ({error}); install Debian's "
                                                           "python3-optuna (apt-get install python3-optuna)"}))
    return optuna


def suggest(trial, axis):
    name, kind = axis["param"], axis["distribution"]
    if kind == "choice":
        return str(trial.suggest_categorical(name, list(axis["choices"])))
    if kind == "int":
        return str(trial.suggest_int(name, int(axis["min"]), int(axis["max"])))
    value = trial.suggest_float(name, float(axis["min"]), float(axis["max"]), log=(kind == "log_uniform"))
    return repr(value)


class Helper:
    def __init__(self, optuna):
        self.optuna = optuna
        self.study = None
        self.space = []

    def open(self, request):
        optuna = self.optuna
        sampler = optuna.samplers.TPESampler(seed=int(request.get("seed", 0)),
                                             n_startup_trials=int(request.get("startup_trials", 10)))
        self.study = optuna.create_study(storage=request["storage"], study_name=request["study"],
                                         direction=request.get("direction", "minimize"), sampler=sampler,
                                         load_if_exists=True)
        self.space = request["space"]
        known = set(int(number) for number in request.get("known", []))
        failed = []
        for trial in self.study.get_trials(deepcopy=False):
            if trial.state == optuna.trial.TrialState.RUNNING and trial.number not in known:
                self.study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
                failed.append(trial.number)
        return {"ok": True, "optuna": optuna.__version__, "trials": len(self.study.trials), "failed_unknown": failed}

    def ask(self, request):
        trial = self.study.ask()
        params = {axis["param"]: suggest(trial, axis) for axis in self.space}
        return {"ok": True, "trial": trial.number, "params": params}

    def tell(self, request):
        TrialState = self.optuna.trial.TrialState
        number, state = int(request["trial"]), request["state"]
        if state == "complete":
            self.study.tell(number, float(request["value"]), skip_if_finished=True)
        elif state == "pruned":
            if request.get("value") is not None:
                # What the trial reached at the rung that stopped it: TPE ranks pruned trials by it.
                storage = self.study._storage
                trial_id = storage.get_trial_id_from_study_id_trial_number(self.study._study_id, number)
                storage.set_trial_intermediate_value(trial_id, int(request.get("step", 0)), float(request["value"]))
            self.study.tell(number, state=TrialState.PRUNED, skip_if_finished=True)
        elif state == "fail":
            self.study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
        else:
            return {"ok": False, "error": f"unknown trial state '{state}' (complete, pruned or fail)"}
        return {"ok": True}


def main():
    if "--check" in sys.argv[1:]:
        optuna = import_optuna()
        reply({"ok": True, "optuna": optuna.__version__})
        return
    optuna = import_optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    helper = Helper(optuna)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request.get("op")
        if op == "close":
            reply({"ok": True})
            return
        if op != "open" and helper.study is None:
            reply({"ok": False, "error": f"'{op}' before 'open'"})
            continue
        handler = {"open": helper.open, "ask": helper.ask, "tell": helper.tell}.get(op)
        if handler is None:
            reply({"ok": False, "error": f"unknown op '{op}' (open, ask, tell, close)"})
            continue
        try:
            reply(handler(request))
        except (KeyError, ValueError, RuntimeError) as error:
            reply({"ok": False, "error": f"{op}: {type(error).__name__}: {error}"})


if __name__ == "__main__":
    main()
