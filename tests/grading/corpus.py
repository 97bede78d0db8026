"""Submissions that try everything a grader must survive, each with the score it deserves.

Each :class:`Submission` is built from a released notebook of the pilot sets (the student
version, or the solutions notebook) by replacing answer cells and adding cells, or is raw bytes.
``expected`` is the score per question (questions not named score what the base scores:
everything for ``solutions``, nothing for ``student``); ``status`` is how the gradebook's status
must begin. :func:`write_corpus` writes them all into a folder, as a class would hand them in.

The corpus is used by ``tests/grading/test_grading_pipeline.py`` and by
``benchmarks/grading_time.py``.
"""

from __future__ import annotations

import json
import pathlib
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Points per question of the pilot sets (a test checks these against the bundles).
POINTS = {
    "02_gradient_descent": {"q1": 2, "q2": 3, "q3": 3, "q4": 3},
    "06_momentum": {"q1": 2, "q2": 3, "q3": 4, "q4": 3},
    "10_adam": {"q1": 4, "q2": 2, "q3": 2, "q4": 3, "q5": 1},
    "01_optimization_and_deep_learning": {"q1": 3, "q2": 2, "q3": 2, "q4": 3},
    "03_conditioning": {"q1": 3, "q2": 3, "q3": 3, "q4": 3},
    "04_sgd": {"q1": 3, "q2": 4, "q3": 3, "q4": 3},
    "05_minibatch_sgd": {"q1": 3, "q2": 3, "q3": 3, "q4": 2},
    "07_adagrad": {"q1": 2, "q2": 2, "q3": 4, "q4": 3, "q5": 2},
    "08_rmsprop": {"q1": 2, "q2": 2, "q3": 5, "q4": 3, "q5": 2},
    "13_keras_style_and_numpy": {"q1": 3, "q2": 3, "q3": 3, "q4": 2, "q5": 2},
    "14_capstone": {"q1": 3, "q2": 3, "q3": 3, "q4": 2, "q5": 4},
    "15_build_your_own_optimizer": {"q1": 4, "q2": 3, "q3": 2, "q4": 3, "q5": 3},
    "09_adadelta": {"q1": 4, "q2": 2, "q3": 2, "q4": 3, "q5": 2},
    "11_lr_scheduling": {"q1": 4, "q2": 2, "q3": 3, "q4": 2, "q5": 3},
    "12_torch_optim_in_practice": {"q1": 2, "q2": 3, "q3": 3, "q4": 2, "q5": 3},
}


@dataclass(frozen=True)
class Submission:
    name: str
    set: str = "06_momentum"
    base: str = "solutions"              # "solutions", "student", or "raw"
    replace: dict[str, str] = field(default_factory=dict)  # answer cell (by first line) -> code
    append: tuple[str, ...] = ()         # cells added at the end
    prepend: tuple[str, ...] = ()        # cells added after the first code cell
    metadata: dict[str, Any] | None = None
    raw: bytes | None = None
    expected: dict[str, float] = field(default_factory=dict)
    status: str = "graded"
    needs_landlock: int = 0              # the Landlock ABI the defence needs (0: none)
    why: str = ""

    @property
    def file(self) -> str:
        return f"{self.name}.ipynb"

    def expected_scores(self) -> dict[str, float]:
        if self.base == "raw" or not self.status.startswith("graded"):
            return {}
        full = POINTS[self.set]
        base = full if self.base == "solutions" else {q: 0 for q in full}
        return {**base, **self.expected}

    def expected_total(self) -> float:
        return float(sum(self.expected_scores().values()))


def _code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


WRONG_NESTEROV = _code("""
    def nesterov_step(param, grad, state, lr, momentum):
        buf = state.get("momentum_buffer", np.zeros_like(param))
        buf = momentum * buf + momentum * grad
        state["momentum_buffer"] = buf
        return param - lr * (grad + momentum * buf), state
    """)

NO_OP_NESTEROV = "def nesterov_step(param, grad, state, lr, momentum):\n    return param, state"

PATCHES = _code("""
    import builtins
    import math

    import numpy
    import numpy.testing

    numpy.allclose = lambda *args, **kwargs: True
    numpy.isclose = lambda *args, **kwargs: True
    numpy.testing.assert_allclose = lambda *args, **kwargs: None
    numpy.testing.assert_array_equal = lambda *args, **kwargs: None
    math.isclose = lambda *args, **kwargs: True
    builtins.AssertionError = type("Nothing", (Exception,), {})
    try:
        import torch
        import torch.optim

        class Anything(torch.optim.SGD):
            def step(self, closure=None):
                return None

        torch.optim.SGD = torch.optim.Adam = Anything
    except ImportError:
        pass
    import course_lib.validation
    from course_lib.grading import checks

    course_lib.validation.agrees = lambda *args, **kwargs: (True, None)
    checks.fail = lambda *args, **kwargs: None
    checks.number = checks.function = checks.rule = lambda *args, **kwargs: None
    """)

PATCH_BUILTINS = _code("""
    import builtins

    builtins.isinstance = lambda *args: True
    builtins.len = lambda *args: 0
    builtins.abs = lambda x: 0.0
    """)

READ_SECRETS = _code("""
    import glob
    import json
    import os
    import zipfile

    import course_lib

    root = os.path.dirname(os.path.dirname(course_lib.__file__))
    found = []
    for path in [os.path.join(root, "exercises", "masters", "06_momentum.ipynb"),
                 *glob.glob(os.path.join(root, "dist", "autograder", "*.zip")),
                 *glob.glob("/tmp/**/*06_momentum*", recursive=True)]:
        try:
            if path.endswith(".zip"):
                with zipfile.ZipFile(path) as archive:
                    found.append(archive.read("tests/q3.py").decode())
            else:
                with open(path) as f:
                    text = f.read()
                for cell in json.loads(text)["cells"]:
                    source = "".join(cell["source"])
                    if source.startswith("def nesterov_step") or source.startswith("def largest"):
                        exec(source.replace("# BEGIN SOLUTION", "").replace("# END SOLUTION", ""))
                        found.append(path)
        except Exception as exc:
            print("blocked:", path, type(exc).__name__)
    print("found", len(found))
    """)

KILL_PARENT = _code("""
    import os
    import signal

    try:
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError as exc:
        print("could not kill the grader:", exc)
    """)

SENTINEL = "/tmp/course-grading-sentinel/target.txt"
#: a file a submission tries to create beside numpy's own files
PLANTED = "tampered_by_a_submission.txt"
WRITE_OUTSIDE = _code(f"""
    import os

    import numpy

    for path, mode in [("{SENTINEL}", "a"),
                       (os.path.join(os.path.dirname(numpy.__file__), "{PLANTED}"), "w")]:
        try:
            with open(path, mode) as f:
                f.write("tampered")
        except OSError as exc:
            print("blocked:", path, type(exc).__name__)
    """)


DIAGONAL_KINDS_01 = _code("""
    def kind_of_point(hessian):
        if not np.allclose(hessian, np.diag(np.diag(hessian))):
            raise NotImplementedError("only diagonal Hessians so far")
        d = np.diag(hessian)
        if (d > 1e-8).any() and (d < -1e-8).any():
            return "saddle point"
        if (np.abs(d) <= 1e-8).any():
            return "undecided"
        return "minimum" if (d > 0).all() else "maximum"
    """)

TANH_01 = _code("""
    def distance_moved(x0, lr, steps):
        x = x0
        for _ in range(steps):
            x = x - lr / np.cosh(x) ** 2
        return x0 - x
    """)

TWO_BY_TWO_03 = _code("""
    def best_fixed_step(hessian):
        a, b, d = hessian[0, 0], hessian[0, 1], hessian[1, 1]
        root = np.sqrt((a - d) ** 2 / 4 + b**2)
        curvatures = np.array([(a + d) / 2 - root, (a + d) / 2 + root])
        lowest, highest = curvatures.min(), curvatures.max()
        lr = 2 / (lowest + highest)
        return lr, (highest - lowest) / (highest + lowest)
    """)

DIAGONAL_FLOOR_04 = _code("""
    def noise_floor(hessian, lr, noise):
        return float(np.sum(lr * noise**2 / (2 * (2 - lr * np.diag(hessian)))))
    """)

NOISELESS_SGD_04 = _code("""
    def sgd_path(gradient, x0, lr, gamma, steps, noise, seed):
        x = np.array(x0, dtype=float)
        path = [x.copy()]
        for t in range(steps):
            x = x - lr * gamma**t * gradient(x)
            path.append(x.copy())
        return np.array(path)
    """)


NO_BIAS_05 = _code("""
    def largest_stable_lr(features):
        return 2 / np.linalg.eigvalsh(features.T @ features / len(features)).max()
    """)

WITH_REPLACEMENT_05 = _code("""
    def minibatch_noise(per_example, b):
        g = np.asarray(per_example)
        return np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=1)) / b
    """)

ONLY_256_05 = "def gigaflops(times, n=256):\n    return [2 * 256**3 / t / 1e9 for t in times]"

SCALED_TRAVEL_07 = _code("""
    def adagrad_travel(lr, steps, grad):
        return -lr * grad * np.sum(1 / np.sqrt(np.arange(1, steps + 1)))
    """)

NO_DECAY_07 = _code("""
    def adagrad_step(param, grad, state, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                     initial_accumulator_value=0.0, eps=1e-10):
        s = state.get("sum", np.full_like(param, initial_accumulator_value)) + grad**2
        state.update(step=state.get("step", 0) + 1, sum=s)
        return param - lr * grad / (np.sqrt(s) + eps), state
    """)

FIXED_ARTICLE_07 = _code("""
    def article_adagrad(param, grad, sqr, lr):
        sqr = sqr + grad**2
        return param - lr / (np.sqrt(sqr) + 1e-10) * grad, sqr
    """)

PLAIN_ONLY_08 = _code("""
    def rmsprop_step(param, grad, state, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0,
                     centered=False):
        s = alpha * state.get("square_avg", np.zeros_like(param)) + (1 - alpha) * grad**2
        state["square_avg"] = s
        return param - lr * grad / (np.sqrt(s) + eps), state
    """)

EPS_MOVED_ONLY_08 = _code("""
    def article_rmsprop(param, grad, sqr, lr, alpha):
        eps = 1e-10
        sqr = alpha * sqr + (1 - alpha) * grad**2
        return param - lr / (np.sqrt(sqr) + eps) * grad, sqr
    """)

RATIO_08 = _code("""
    def article_over_torch(grad, alpha):
        s = (1 - alpha) * grad**2
        return (np.sqrt(s) + 1e-8) / np.sqrt(s + 1e-10)
    """)


CAP_ONLY_13 = _code("""
    def fit_three_points(alpha, tolerance=1e-4, max_steps=1000):
        a, b, updates = 2.0, 2.0, 0
        while updates < max_steps:
            if np.hypot(*gradient(a, b)) < tolerance:
                break
            a, b = article_update(a, b, alpha)
            updates += 1
        return a, b, updates
    """)

LARGEST_CURVATURE_13 = "def tolerance_for(distance):\n    return distance * (4 + np.sqrt(10))"

EFFECTIVE_EPS_13 = _code("""
    def keras_effective_eps(epsilon, beta_2, t):
        return epsilon / np.sqrt(1 - beta_2**t)
    """)

TEN_SEEDS_ONLY_14 = _code("""
    def mean_interval(values):
        values = np.asarray(values, dtype=float)
        half = 2.262 * values.std(ddof=1) / np.sqrt(len(values))
        return values.mean() - half, values.mean() + half
    """)

NARROW_14 = _code("""
    def too_narrow_by(n):
        return scipy.stats.t.ppf(0.975, n - 1) * np.sqrt(n / (n - 1)) / 1.96
    """)

RADAM_14 = _code("""
    def radam_over_adam(t, beta2=0.999):
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2**t / (1 - beta2**t)
        if rho <= 5:
            return 1.0
        return np.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
    """)

OWN_NAMES_15 = _code("""
    class MyOptimizer(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                     amsgrad=False):
            super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                      "weight_decay": weight_decay, "amsgrad": amsgrad})

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                beta1, beta2 = group["betas"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    grad = p.grad + group["weight_decay"] * p
                    state = self.state[p]
                    if not state:
                        state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p),
                                     v_max=torch.zeros_like(p))
                    state["t"] += 1
                    t = state["t"]
                    state["m"] = beta1 * state["m"] + (1 - beta1) * grad
                    state["v"] = beta2 * state["v"] + (1 - beta2) * grad**2
                    v = state["v"]
                    if group["amsgrad"]:
                        state["v_max"] = torch.maximum(state["v_max"], v)
                        v = state["v_max"]
                    p -= group["lr"] * (state["m"] / (1 - beta1**t)) / (
                        (v / (1 - beta2**t)).sqrt() + group["eps"])
    """)


def _hard_coded_public_answers() -> dict[str, str]:
    """Answers that return the public checks' expected results from a table."""
    import torch

    param = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.3, momentum=0.5, nesterov=True)
    hessian = np.diag([0.2, 4.0])
    table = []
    for _ in range(20):
        param.grad = torch.from_numpy(hessian @ param.detach().numpy())
        optimizer.step()
        table.append((param.detach().numpy().tolist(),
                      optimizer.state[param]["momentum_buffer"].numpy().tolist()))
    nesterov = _code(f"""
        TABLE = {table!r}

        def nesterov_step(param, grad, state, lr, momentum):
            k = state.get("k", 0)
            new_param, buf = TABLE[k % len(TABLE)]
            return np.array(new_param), {{"k": k + 1, "momentum_buffer": np.array(buf)}}
        """)
    stable = _code("""
        def largest_stable_lr(hessian, momentum, nesterov=False):
            return 0.375 if nesterov else 0.75
        """)
    return {"def nesterov_step": nesterov, "def largest_stable_lr": stable}


def submissions() -> list[Submission]:
    """The whole corpus."""
    student = "student"
    return [
        # honest work
        Submission("solutions_02", set="02_gradient_descent", why="the master's solutions"),
        Submission("solutions_06", why="the master's solutions"),
        Submission("solutions_10", set="10_adam", why="the master's solutions"),
        Submission("untouched_02", set="02_gradient_descent", base=student),
        Submission("untouched_06", base=student, why="the student version as released"),
        Submission("untouched_10", set="10_adam", base=student),
        Submission("wrong_nesterov", replace={"def nesterov_step": WRONG_NESTEROV},
                   expected={"q3": 0}, why="a wrong first buffer: q3 fails, the rest scores"),
        Submission("partial_06", base=student, why="q1 right, q2 right for heavy ball only",
                   replace={"gain_steady": "gain_steady = 5.0",
                            "gain_alternating": "gain_alternating = 1 / 1.8",
                            "def largest_stable_lr": _code("""
                                def largest_stable_lr(hessian, momentum, nesterov=False):
                                    return 2 * (1 + momentum) / np.linalg.eigvalsh(hessian).max()
                                """)},
                   expected={"q1": 2, "q2": 1.5}),
        Submission("solutions_01", set="01_optimization_and_deep_learning"),
        Submission("solutions_03", set="03_conditioning"),
        Submission("solutions_04", set="04_sgd"),
        Submission("untouched_01", set="01_optimization_and_deep_learning", base=student),
        Submission("untouched_03", set="03_conditioning", base=student),
        Submission("untouched_04", set="04_sgd", base=student),
        Submission("partial_01", set="01_optimization_and_deep_learning", base=student,
                   replace={"def kind_of_point": DIAGONAL_KINDS_01, "def distance_moved": TANH_01},
                   expected={"q1": 1, "q3": 2},
                   why="kinds of points for diagonal Hessians only; tanh right"),
        Submission("partial_03", set="03_conditioning", base=student,
                   replace={"def best_fixed_step": TWO_BY_TWO_03,
                            "choice": 'choice = {"optimizer": "sgd", "lr": 0.95}'},
                   expected={"q1": 1, "q4": 3},
                   why="eigenvalues by the 2 x 2 formula: right for turned valleys, not in n-D"),
        Submission("partial_04", set="04_sgd", base=student,
                   replace={"def noise_floor": DIAGONAL_FLOOR_04, "def sgd_path": NOISELESS_SGD_04,
                            "choice": 'choice = {"lr": 0.1, "alpha": 0.75, "beta": 0.1}'},
                   expected={"q1": 1, "q2": 1, "q4": 1},
                   why="floor from the diagonal, SGD without its noise, a schedule at 0.0093"),
        Submission("solutions_05", set="05_minibatch_sgd"),
        Submission("solutions_07", set="07_adagrad"),
        Submission("solutions_08", set="08_rmsprop"),
        Submission("untouched_05", set="05_minibatch_sgd", base=student),
        Submission("untouched_07", set="07_adagrad", base=student),
        Submission("untouched_08", set="08_rmsprop", base=student),
        Submission("partial_05", set="05_minibatch_sgd", base=student,
                   replace={"def largest_stable_lr": NO_BIAS_05,
                            "def minibatch_noise": WITH_REPLACEMENT_05,
                            "def gigaflops": ONLY_256_05},
                   expected={"q1": 1, "q2": 1, "q4": 1},
                   why="no bias column, noise with replacement, flops only for n = 256"),
        Submission("partial_07", set="07_adagrad", base=student,
                   replace={"def adagrad_travel": SCALED_TRAVEL_07, "def adagrad_step": NO_DECAY_07,
                            "def article_adagrad": FIXED_ARTICLE_07},
                   expected={"q1": 1, "q3": 2, "q4": 2},
                   why="travel scaled by the gradient, Adagrad without lr_decay, (a) of q4 only"),
        Submission("partial_08", set="08_rmsprop", base=student,
                   replace={"def old_weight": "def old_weight(alpha, k):\n    return alpha**k",
                            "def first_step": "def first_step(lr, alpha):\n    return lr",
                            "def rmsprop_step": PLAIN_ONLY_08,
                            "def article_rmsprop": EPS_MOVED_ONLY_08,
                            "def article_over_torch": RATIO_08},
                   expected={"q1": 1, "q3": 2, "q4": 1},
                   why="first step without the zero start, RMSprop neither centered nor with "
                       "momentum, the article's eps moved out of the root but kept at 1e-10"),
        Submission("solutions_13", set="13_keras_style_and_numpy"),
        Submission("solutions_14", set="14_capstone"),
        Submission("solutions_15", set="15_build_your_own_optimizer"),
        Submission("untouched_13", set="13_keras_style_and_numpy", base=student),
        Submission("untouched_14", set="14_capstone", base=student),
        Submission("untouched_15", set="15_build_your_own_optimizer", base=student),
        Submission("partial_13", set="13_keras_style_and_numpy", base=student,
                   replace={"def fit_three_points": CAP_ONLY_13,
                            "def tolerance_for": LARGEST_CURVATURE_13,
                            "def keras_effective_eps": EFFECTIVE_EPS_13},
                   expected={"q2": 2, "q5": 2},
                   why="the gradient-norm loop right, its tolerance from the largest curvature; "
                       "Keras' epsilon right"),
        Submission("partial_14", set="14_capstone", base=student,
                   replace={"def mean_interval": TEN_SEEDS_ONLY_14, "def too_narrow_by": NARROW_14,
                            "def radam_over_adam": RADAM_14},
                   expected={"q1": 2, "q4": 2},
                   why="the interval with t for ten seeds only; the ratio and RAdam right"),
        Submission("own_names_15", set="15_build_your_own_optimizer",
                   replace={"class MyOptimizer": OWN_NAMES_15}, expected={"q5": 0},
                   why="a right Adam whose state entries are not torch's: no checkpoint moves"),
        Submission("solutions_09", set="09_adadelta"),
        Submission("solutions_11", set="11_lr_scheduling"),
        Submission("solutions_12", set="12_torch_optim_in_practice"),
        Submission("untouched_09", set="09_adadelta", base=student),
        Submission("untouched_11", set="11_lr_scheduling", base=student),
        Submission("untouched_12", set="12_torch_optim_in_practice", base=student),
        Submission("partial_09", set="09_adadelta",
                   replace={"def first_step": _code("""
                       def first_step(grad, rho, eps):
                           return np.sqrt(eps / (1 - rho))
                       """), "def flip_growth": _code("""
                       def flip_growth(lr, curvature, eps):
                           return 3 * eps / 16
                       """)}, expected={"q2": 1, "q3": 1},
                   why="the first step's large-gradient limit; the flip's growth of the bowl"),
        Submission("partial_11", set="11_lr_scheduling",
                   replace={"class CosineScheduler": _code("""
                       class CosineScheduler:
                           def __init__(self, max_update, base_lr=0.01, final_lr=0,
                                        warmup_steps=0, warmup_begin_lr=0):
                               self.base_lr_orig, self.max_update = base_lr, max_update
                               self.final_lr, self.warmup_steps = final_lr, warmup_steps
                               self.warmup_begin_lr = warmup_begin_lr

                           def __call__(self, epoch):  # d2l's, state and all
                               if epoch <= self.max_update:
                                   self.base_lr = self.final_lr + (
                                       self.base_lr_orig - self.final_lr) * (1 + math.cos(
                                       math.pi * epoch / self.max_update)) / 2
                               return self.base_lr
                       """), "choice =": 'choice = {"warmup_steps": 40, "start_lr": 0.0}'},
                   expected={"q3": 1, "q5": 0},
                   why="FactorScheduler fixed, CosineScheduler still stateful (and without its "
                       "warmup); a warmup longer than the rules allow"),
        Submission("partial_12", set="12_torch_optim_in_practice",
                   replace={"def article_targets": _code("""
                       def article_targets(n, classes):
                           return torch.softmax(torch.randn(n, classes), dim=1).float() * 1.01
                       """), "def sgd_rates": _code("""
                       def sgd_rates(lr, lr_decay, updates):
                           param = nn.Parameter(torch.zeros(1))
                           optimizer = optim.SGD([param], lr=lr)
                           scheduler = optim.lr_scheduler.LambdaLR(
                               optimizer, lambda t: 1 / (1 + t * lr_decay))
                           rates = []
                           for _ in range(updates):
                               scheduler.step()  # before the update: one update early
                               param.grad = torch.ones(1)
                               rates.append(optimizer.param_groups[0]["lr"])
                               optimizer.step()
                           return rates
                       """)}, expected={"q1": 0, "q5": 1},
                   why="LambdaLR stepped before the update; probability rows that sum to 1.01"),
        Submission("diagonal_only_02", set="02_gradient_descent", expected={"q2": 1},
                   replace={"def largest_stable_lr": _code("""
                       def largest_stable_lr(hessian):
                           return 2.0 / np.max(np.diag(hessian))
                       """)}, why="max of the diagonal: right only for diagonal Hessians"),
        # files that are not gradable
        Submission("invalid_json", base="raw", raw=b'{"cells": [',
                   status="not graded: not a notebook"),
        Submission("empty", base="raw", raw=b"", status="not graded: empty file"),
        Submission("json_list", base="raw", raw=b"[1, 2, 3]", status="not graded: not a notebook"),
        Submission("binary", base="raw", raw=bytes(range(256)) * 4,
                   status="not graded: not a notebook"),
        Submission("wrong_assignment", metadata={"otter": {"assignment_name": "99_other"}},
                   status="not graded: wrong assignment"),
        Submission("other_course", metadata={}, status="not graded: wrong assignment",
                   why="no otter metadata and a file name that names no set"),
        Submission("renamed_06_momentum_alice", metadata={}, why="no metadata: set from file name"),
        Submission("huge_code", append=("# " + "x" * (6 * 2**20),),
                   status="not graded: its code is larger than 5 MB"),
        # code that misbehaves while the notebook runs
        Submission("raises", append=("raise RuntimeError('boom')",)),
        Submission("sys_exit", append=("import sys\nsys.exit(3)",)),
        Submission("os_exit_at_end", append=("import os\nos._exit(0)",)),
        Submission("os_exit_in_answer", expected={"q3": 0},
                   replace={"def nesterov_step": "import os\nos._exit(1)\n" + WRONG_NESTEROV}),
        Submission("infinite_loop", append=("while True:\n    pass",)),
        Submission("infinite_loop_no_alarm",
                   append=("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                           "signal.signal(signal.SIGPROF, signal.SIG_IGN)\n"
                           "while True:\n    pass",)),
        Submission("sleeps", append=("import time\ntime.sleep(10**6)",)),
        Submission("loop_in_answer", expected={"q3": 0},
                   replace={"def nesterov_step": "def nesterov_step(param, grad, state, lr, "
                                                 "momentum):\n    while True:\n        pass"}),
        Submission("memory_bomb", append=("chunks = []\nwhile True:\n"
                                          "    chunks.append(bytearray(10**8))",)),
        Submission("numpy_memory", append=("big = np.ones((10**6, 10**6))",)),
        Submission("print_flood", append=("for i in range(300_000):\n    print('x' * 100)",)),
        # tampering with what the checks use
        Submission("monkeypatch_blank", base=student, prepend=(PATCHES,),
                   append=(NO_OP_NESTEROV,), why="patches numpy, math, torch.optim, course_lib"),
        Submission("monkeypatch_solutions", prepend=(PATCHES,),
                   why="the same patches do not hurt a correct notebook either"),
        Submission("patch_builtins", base=student, prepend=(PATCH_BUILTINS,)),
        Submission("hard_coded_public", base=student, replace=_hard_coded_public_answers(),
                   why="answers fitted to the public inputs pass public checks, earn 0"),
        Submission("read_secrets", base=student, prepend=(READ_SECRETS,), needs_landlock=1,
                   why="reads the master and the bundles to copy the solutions"),
        Submission("write_outside", append=(WRITE_OUTSIDE,), needs_landlock=1,
                   why="writes into a file outside its scratch folder and into numpy"),
        Submission("kill_parent", append=(KILL_PARENT,), needs_landlock=6,
                   why="signals the grading process"),
    ]


def build(submission: Submission, released: pathlib.Path) -> bytes:
    """The file a learner would hand in, from ``released`` (``make release``'s ``dist``)."""
    if submission.base == "raw":
        return submission.raw or b""
    source = (released / "autograder" / f"{submission.set}-solutions.ipynb"
              if submission.base == "solutions"
              else released / "student" / f"{submission.set}.ipynb")
    notebook = json.loads(source.read_text(encoding="utf-8"))
    cells = notebook["cells"]
    replaced = set()
    for cell in cells:
        text = "".join(cell["source"])
        for prefix, code in submission.replace.items():
            if cell["cell_type"] == "code" and text.startswith(prefix):
                cell["source"] = code
                replaced.add(prefix)
    missing = set(submission.replace) - replaced
    if missing:
        raise ValueError(f"{submission.name}: no answer cell starts with {sorted(missing)}")
    first = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    added = [*submission.prepend, *submission.append]
    new = [_cell(code, i) for i, code in enumerate(added)]
    cells[first + 1:first + 1] = new[:len(submission.prepend)]
    cells += new[len(submission.prepend):]
    if submission.metadata is not None:
        notebook["metadata"].pop("otter", None)
        notebook["metadata"].update(submission.metadata)
    return json.dumps(notebook).encode("utf-8")


def _cell(code: str, index: int) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "id": f"added-{index}",
            "metadata": {}, "outputs": [], "source": code}


def write_corpus(released: pathlib.Path, folder: pathlib.Path,
                 chosen: list[Submission] | None = None) -> list[Submission]:
    """Write every submission into ``folder``; returns them."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = submissions() if chosen is None else chosen
    for submission in chosen:
        (folder / submission.file).write_bytes(build(submission, released))
    return chosen
