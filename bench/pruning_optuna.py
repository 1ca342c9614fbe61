"""Optuna's side of the pruning benchmark (bench/pruning.mjs).

Reads one job as JSON from the file named by argv[1]:
  {"workers": [1, 4], "direction": "maximize" | "minimize",
   "arms": [{"name", "pruner": "median" | "successive_halving" | "hyperband", ...settings}],
   "problems": [{"id", "configs": [{"steps": [...], "values": [...], "final", "seconds"}]}]}
and prints {"optuna": version, "seconds", "outcomes": {arm: {workers: {problem id:
[{"last_step", "pruned"} per configuration]}}}} as JSON.

The replay is pruning.mjs's `replay`, written again here step for step: W workers take the
configurations in their order (study.ask() for each); a configuration's points come one
every `seconds` after it starts; each point, in time order (the lowest worker first on a
tie), is reported (trial.report(value, step)) and judged (trial.should_prune()). A pruned
trial is told PRUNED, a trial at its last point its final value; either way its worker
starts the next configuration at once. Nothing here samples: the configurations are fixed,
so the sampler is never asked for a parameter.
"""

import json
import sys
import time

import optuna
from optuna.trial import TrialState


def make_pruner(arm):
    """The Optuna pruner of an arm, with the settings pruning.mjs gave it (no defaults left to Optuna)."""
    kind = arm["pruner"]
    if kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=arm["n_startup_trials"],
            n_warmup_steps=arm["n_warmup_steps"],
            interval_steps=arm["interval_steps"],
            n_min_trials=arm["n_min_trials"],
        )
    if kind == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=arm["min_resource"],
            reduction_factor=arm["reduction_factor"],
            min_early_stopping_rate=arm["min_early_stopping_rate"],
        )
    if kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=arm["min_resource"],
            max_resource=arm["max_resource"],
            reduction_factor=arm["reduction_factor"],
        )
    raise ValueError("unknown pruner {!r}".format(kind))


def replay(problem, workers, arm, direction):
    """One sweep of the problem's configurations under the arm's pruner; each trial's last step and fate."""
    # A fixed study name: HyperbandPruner puts trial n in a bracket by crc32("<name>_<n>"),
    # so the brackets are the same on every run.
    study = optuna.create_study(
        study_name="tunix-rt-pruning-bench",
        direction=direction,
        pruner=make_pruner(arm),
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    configs = problem["configs"]
    outcomes = [None] * len(configs)
    # Per worker: [config index, optuna trial, next point, start time] or None.
    slots = [None] * workers
    free_at = [0.0] * workers
    started = 0
    while True:
        # A free worker starts the next configuration when it became free.
        for w in range(workers):
            if slots[w] is None and started < len(configs):
                slots[w] = [started, study.ask(), 0, free_at[w]]
                started += 1
        # The next point to come, of any running trial: the earliest, the lowest worker on a tie.
        w = -1
        when = float("inf")
        for k in range(workers):
            slot = slots[k]
            if slot is None:
                continue
            at = slot[3] + (slot[2] + 1) * configs[slot[0]]["seconds"]
            if at < when:
                when = at
                w = k
        if w < 0:
            break
        slot = slots[w]
        index, trial, point = slot[0], slot[1], slot[2]
        config = configs[index]
        step = config["steps"][point]
        trial.report(config["values"][point], step)
        slot[2] = point + 1
        # bool(): MedianPruner answers with a numpy bool.
        pruned = bool(trial.should_prune())
        if pruned:
            study.tell(trial, state=TrialState.PRUNED)
        elif slot[2] == len(config["steps"]):
            study.tell(trial, config["final"])
        if pruned or slot[2] == len(config["steps"]):
            outcomes[index] = {"last_step": step, "pruned": pruned}
            slots[w] = None
            free_at[w] = when
    return outcomes


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    began = time.time()
    outcomes = {}
    for arm in job["arms"]:
        by_workers = {}
        for workers in job["workers"]:
            by_workers[str(workers)] = {
                problem["id"]: replay(problem, workers, arm, job["direction"]) for problem in job["problems"]
            }
        outcomes[arm["name"]] = by_workers
    json.dump({"optuna": optuna.__version__, "seconds": time.time() - began, "outcomes": outcomes}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
