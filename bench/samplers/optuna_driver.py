"""Optuna peers of the tunix-rt sampler benchmark.

Reads one job as JSON (argv[1]): {"problem", "sampler": "optuna-tpe" | "optuna-random",
"seeds": [...], "waves", "q", "hpobench_dir", "tabular": "float" | "index"} and prints
{"regrets": [[regret after each wave] per seed], "seconds"} as JSON.

Each run is the benchmark's wave loop: ask q trials with study.ask() (each trial's params
suggested right away, so the constant liar sees the running ones), evaluate them, then tell
the q values. The problems and the noise protocol are those of problems.mjs, written again
here: the same formulas, the same files, the same hash to pick a tabular seed value.
"""

import json
import math
import sys
import time

MASK = 0xFFFFFFFF


def mix32(x):
    z = x & MASK
    z = ((z ^ (z >> 16)) * 0x21F0AAAD) & MASK
    z = ((z ^ (z >> 15)) * 0x735A2D97) & MASK
    return (z ^ (z >> 15)) & MASK


def fnv1a(text):
    h = 0x811C9DC5
    for ch in text:
        h = ((h ^ ord(ch)) * 0x01000193) & MASK
    return h


def noise_hash(parts):
    h = 0x9E3779B9
    for p in parts:
        h = mix32((h + 0x9E3779B9 + (p & MASK)) & MASK)
    return h


def seed_index(problem, run_seed, config, occurrence, n):
    return noise_hash([fnv1a(problem), run_seed, config, occurrence]) % n


def trial_duration(run_seed, k):
    """problems.mjs trialDuration: the k-th trial's simulated duration in the asynchronous regime."""
    return 0.5 + noise_hash([fnv1a("duration"), run_seed, k]) / 2**32


def branin(x1, x2):
    b = 5.1 / (4 * math.pi * math.pi)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
H_P = [
    [v * 1e-4 for v in row]
    for row in [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
]


def hartmann6(x):
    f = 0.0
    for i in range(4):
        inner = sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2 for j in range(6))
        f -= H_ALPHA[i] * math.exp(-inner)
    return f


class Synthetic:
    def __init__(self, name):
        self.name = name
        self.direction = "minimize"
        if name == "branin":
            self.f_star = 0.397887357729738
        else:
            self.f_star = -3.32236801141551

    def run(self, seed):
        return self

    def suggest(self, trial):
        if self.name == "branin":
            return (trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15))
        return tuple(trial.suggest_float(f"x{j}", 0, 1) for j in range(1, 7))

    def value(self, x):
        return branin(*x) if self.name == "branin" else hartmann6(x)

    def evaluate(self, x):
        return self.value(x)

    def regret(self, x):
        return self.value(x) - self.f_star


NOISY_LEVELS = {
    "hartmann6-n01": 0.01,
    "hartmann6-n03": 0.03,
    "hartmann6-n10": 0.1,
    "finetune": 0.0,
    "finetune-n03": 0.03,
    "finetune-n10": 0.1,
}
SCORE_LOW = 0.1
SCORE_SPAN = 0.8
FT_PEAK = {"adamw": 1.0, "lion": 0.96, "sgd": 0.85}
FT_CENTRE = {"adamw": -3.5, "lion": -4.2, "sgd": -2.4}


def noise_draw(problem, run_seed, k):
    """problems.mjs noiseDraw: the k-th standard normal draw of a run (Box-Muller of two hashes)."""
    u1 = (noise_hash([fnv1a(problem), run_seed, k, 1]) + 0.5) / 2**32
    u2 = (noise_hash([fnv1a(problem), run_seed, k, 2]) + 0.5) / 2**32
    return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def finetune_score(lr, warmup, rank, optimizer):
    u = math.log10(lr)
    r = math.log2(rank) - 2
    bell = math.exp(-(((u - FT_CENTRE[optimizer]) / 0.5) ** 2))
    w = 1 - 0.5 * ((warmup - 0.1) / 0.3) ** 2
    k = 1 - 0.2 * ((r - 3) / 3) ** 2
    return SCORE_LOW + SCORE_SPAN * FT_PEAK[optimizer] * bell * w * k


class Noisy:
    """problems.mjs noisyProblem: Hartmann6 or the fine-tuning surface as a score in
    [0.1, 0.9] (maximised), plus Gaussian noise of sd level * 0.8, clipped to [0, 1]. The rank
    is suggested as log2(rank), an int 2..6 (ordered, as tunix-rt's numeric choice is)."""

    def __init__(self, name):
        self.name = name
        self.direction = "maximize"
        self.level = NOISY_LEVELS[name]
        self.finetune = name.startswith("finetune")

    def suggest(self, trial):
        if self.finetune:
            return (
                trial.suggest_float("lr", 1e-5, 1e-2, log=True),
                trial.suggest_float("warmup", 0, 0.3),
                2 ** trial.suggest_int("rank_log2", 2, 6),
                trial.suggest_categorical("optimizer", ["adamw", "lion", "sgd"]),
            )
        return tuple(trial.suggest_float(f"x{j}", 0, 1) for j in range(1, 7))

    def truth(self, x):
        if self.finetune:
            return finetune_score(*x)
        return SCORE_LOW + SCORE_SPAN * hartmann6(x) / -3.32236801141551

    def run(self, seed):
        problem = self

        class Run:
            def __init__(self):
                self.k = 0

            def evaluate(self, x):
                value = problem.truth(x) + problem.level * SCORE_SPAN * noise_draw(problem.name, seed, self.k)
                self.k += 1
                return min(1.0, max(0.0, value))

            def regret(self, x):
                return SCORE_LOW + SCORE_SPAN - problem.truth(x)

        return Run()


class Tabular:
    """An HPOBench set, seen as problems.mjs describes. tabular="float": each log-spaced grid
    (alpha, batch_size, learning_rate_init, width) is a log-scale float range snapped to the
    nearest grid value on the log scale, depth an int range; tabular="grid": every parameter
    an int index 0..n-1 (the JS side gives tunix-rt's samplers ordered choices)."""

    def __init__(self, name, directory, tabular):
        with open(f"{directory}/{name}.json") as f:
            data = json.load(f)
        self.name = name
        self.direction = "maximize"
        self.order = data["param_order"]
        self.grids = [data["search_space"][p] for p in self.order]
        self.values = data["values"]
        self.best_mean = data["best_mean"]
        self.means = [sum(v) / len(v) for v in self.values]
        self.tabular = tabular

    def suggest(self, trial):
        digits = []
        for p, grid in zip(self.order, self.grids):
            if self.tabular == "grid":
                digits.append(trial.suggest_int(p, 0, len(grid) - 1))
                continue
            geometric = all(g > 0 for g in grid) and len(grid) > 3
            if geometric:
                v = trial.suggest_float(p, grid[0], grid[-1], log=True)
                k = min(range(len(grid)), key=lambda i: abs(math.log(grid[i]) - math.log(v)))
            else:
                v = trial.suggest_int(p, int(grid[0]), int(grid[-1]))
                k = min(range(len(grid)), key=lambda i: abs(grid[i] - v))
            digits.append(k)
        r = 0
        for k, grid in zip(digits, self.grids):
            r = r * len(grid) + k
        return r

    def sd(self, r):
        v = self.values[r]
        m = sum(v) / len(v)
        return (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5

    def run(self, seed):
        problem = self

        class Run:
            def __init__(self):
                self.asked = {}

            def evaluate(self, r):
                occurrence = self.asked.get(r, 0)
                self.asked[r] = occurrence + 1
                vals = problem.values[r]
                return vals[seed_index(problem.name, seed, r, occurrence, len(vals))]

            def regret(self, r):
                return problem.best_mean - problem.means[r]

        return Run()


def run_async(study, problem, run, seed, waves, q):
    """ours.mjs runOursAsync: q workers, one trial asked each time one frees up (the running
    ones are known to the constant liar), the regret after each q finished trials."""
    total = waves * q
    running = []
    asked = 0
    best = None
    curve = []
    finished = 0

    def ask(now):
        nonlocal asked
        trial = study.ask()
        running.append((now + trial_duration(seed, asked), asked, trial, problem.suggest(trial)))
        asked += 1

    while asked < min(q, total):
        ask(0.0)
    while running:
        running.sort(key=lambda r: (r[0], r[1]))
        end, _, trial, x = running.pop(0)
        value = run.evaluate(x)
        study.tell(trial, value)
        if best is None or (value > best[0] if problem.direction == "maximize" else value < best[0]):
            best = (value, x)
        finished += 1
        if finished % q == 0 or finished == total:
            curve.append(run.regret(best[1]))
        if asked < total:
            ask(end)
    return curve


def main():
    job = json.loads(sys.argv[1])
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    import warnings

    warnings.filterwarnings("ignore")
    name = job["problem"]
    if name in ("branin", "hartmann6"):
        problem = Synthetic(name)
    elif name in NOISY_LEVELS:
        problem = Noisy(name)
    else:
        problem = Tabular(name, job["hpobench_dir"], job.get("tabular", "float"))
    started = time.time()
    regrets = []
    proposal_regrets = []
    all_regrets = []
    for seed in job["seeds"]:
        if job["sampler"] == "optuna-tpe":
            sampler = optuna.samplers.TPESampler(multivariate=True, constant_liar=True, seed=seed)
        elif job["sampler"] == "optuna-random":
            sampler = optuna.samplers.RandomSampler(seed=seed)
        else:
            raise SystemExit(f"unknown sampler {job['sampler']}")
        study = optuna.create_study(direction=problem.direction, sampler=sampler)
        run = problem.run(seed)
        if job.get("regime") == "async":
            regrets.append(run_async(study, problem, run, seed, job["waves"], job["q"]))
            continue
        best = None
        per_wave = []
        proposed = []
        for _ in range(job["waves"]):
            wave = []
            for _ in range(job["q"]):
                trial = study.ask()
                wave.append((trial, problem.suggest(trial)))
            proposed.append(sum(run.regret(x) for _, x in wave) / len(wave))
            if job.get("all_regrets"):
                all_regrets.append([[run.regret(x), problem.sd(x)] for _, x in wave])
            for trial, x in wave:
                value = run.evaluate(x)
                study.tell(trial, value)
                if best is None or (
                    value > best[0] if problem.direction == "maximize" else value < best[0]
                ):
                    best = (value, x)
            per_wave.append(run.regret(best[1]))
        regrets.append(per_wave)
        proposal_regrets.append(proposed)
    print(json.dumps({"regrets": regrets, "proposalRegrets": proposal_regrets, "allRegrets": all_regrets, "seconds": time.time() - started}))


if __name__ == "__main__":
    main()
