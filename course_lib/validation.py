"""Parity of course_lib with torch.optim, run as ``python -m course_lib validate``.

For every algorithm and option set, the same problem is solved three times in lockstep:

* by the reference: ``torch.optim.<Name>`` (for Yogi, which torch lacks, a direct transcription
  of d2l's formula, :class:`D2LYogi`);
* by ``course_lib.optim.<Name>`` on torch tensors;
* by :class:`course_lib.arrays.ArrayOptimizer` on numpy arrays (gradients from autograd).

After every step the parameters are compared with the reference's. The table reports, over the
whole trajectory, the largest absolute deviation and the largest relative one
(``max |ours - ref| / max |ref|`` at each step). Verdicts:

* float64: relative deviation at most 1e-10;
* float32: every entry within torch's own test tolerance, ``|ours - ref| <= 1e-5 + 1.3e-6 |ref|``.

The problems: a small MLP (tanh) on a fixed regression batch, and an ill-conditioned quadratic
``0.5 x'Ax - b'x`` (condition number 1000) split into two parameters. Some gradients are None at
some steps, and one parameter is frozen for a stretch, so state that is skipped is exercised.
With ``maximize=True`` the objective is negated, so the run still heads for a finite optimum.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from course_lib import optim
from course_lib.arrays import ArrayOptimizer

__all__ = [
    "OPTION_SETS",
    "PROBLEMS",
    "D2LYogi",
    "Result",
    "compare",
    "run_validation",
    "format_table",
    "main",
]

# Tolerances of torch's own optimizer tests for float32 (test_optim.py defaults).
FLOAT32_RTOL = 1.3e-6
FLOAT32_ATOL = 1e-5
FLOAT64_MAX_REL = 1e-10

#: Option sets per algorithm: torch's own CPU test inputs (common_optimizers.py), plus more.
OPTION_SETS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "sgd": [
        ("default", {}),
        ("non-default lr", {"lr": 0.01}),
        ("tensor lr", {"lr": "tensor(0.001)"}),
        ("weight_decay", {"weight_decay": 0.5}),
        ("momentum", {"momentum": 0.9}),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
        ("dampening", {"momentum": 0.9, "dampening": 0.5}),
        ("weight_decay, momentum", {"momentum": 0.9, "weight_decay": 0.1}),
        ("nesterov", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ],
    "adagrad": [
        ("default", {}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
        ("non-default lr", {"lr": 0.1}),
        ("initial_accumulator_value", {"initial_accumulator_value": 0.1, "weight_decay": 0.1}),
        ("lr_decay", {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.1}),
        ("tensor lr", {"lr": "tensor(0.001)"}),
        ("eps", {"lr": 0.1, "eps": 1e-3}),
    ],
    "rmsprop": [
        ("default", {}),
        ("non-default lr", {"lr": 0.001}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"maximize": True}),
        ("centered", {"weight_decay": 0.1, "centered": True}),
        ("maximize, weight_decay", {"maximize": True, "weight_decay": 0.1}),
        ("centered, momentum", {"weight_decay": 0.1, "centered": True, "momentum": 0.1}),
        (
            "maximize, centered, momentum",
            {"weight_decay": 0.1, "centered": True, "momentum": 0.1, "maximize": True},
        ),
        ("alpha, momentum", {"alpha": 0.9, "momentum": 0.5}),
    ],
    "adadelta": [
        ("default", {}),
        ("non-default lr", {"lr": 0.01}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"maximize": True}),
        ("maximize, weight_decay", {"weight_decay": 0.1, "maximize": True}),
        ("rho", {"rho": 0.95, "weight_decay": 0.9}),
    ],
    "adam": [
        ("default", {}),
        ("non-default lr", {"lr": 0.01}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
        ("amsgrad", {"weight_decay": 0.1, "amsgrad": True}),
        ("decoupled_weight_decay", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
        ("betas, eps", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ],
    "adamw": [
        ("default", {}),
        ("non-default lr", {"lr": 0.01}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
        ("amsgrad", {"weight_decay": 0.1, "amsgrad": True}),
    ],
    "adamax": [
        ("default", {}),
        ("non-default lr", {"lr": 0.1}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"maximize": True}),
        ("maximize, weight_decay", {"weight_decay": 0.1, "maximize": True}),
    ],
    "nadam": [
        ("default", {}),
        ("non-default lr", {"lr": 0.001}),
        ("momentum_decay", {"momentum_decay": 0.006}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("weight_decay, momentum_decay", {"weight_decay": 0.1, "momentum_decay": 0.006}),
        (
            "decoupled_weight_decay",
            {"weight_decay": 0.1, "momentum_decay": 0.006, "decoupled_weight_decay": True},
        ),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
    ],
    "radam": [
        ("default", {}),
        ("non-default lr", {"lr": 0.002}),
        ("eps", {"eps": 1e-6}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("decoupled_weight_decay", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
    ],
    "yogi": [
        ("default", {}),
        ("non-default lr", {"lr": 0.1}),
        ("weight_decay", {"weight_decay": 0.1}),
        ("maximize", {"weight_decay": 0.1, "maximize": True}),
        ("betas, eps", {"betas": (0.8, 0.99), "eps": 1e-6}),
    ],
}


def _materialize(options: dict[str, Any]) -> dict[str, Any]:
    """Options with the placeholder ``"tensor(x)"`` turned into a 0-dim tensor lr."""
    out = dict(options)
    lr = out.get("lr")
    if isinstance(lr, str) and lr.startswith("tensor("):
        out["lr"] = torch.tensor(float(lr[len("tensor(") : -1]))
    return out


# -- the reference for Yogi ---------------------------------------------------------------------


class D2LYogi(torch.optim.Optimizer):
    """Yogi exactly as d2l's chapter on Adam writes it, as a torch optimizer (the reference).

    d2l: ``v = b1 v + (1 - b1) g``; ``s = s + (1 - b2) sign(g^2 - s) g^2``;
    ``p -= lr (v / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)``, t counting from 1.
    Weight decay (L2) and maximize are added the way torch adds them to Adam.
    """

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-3, weight_decay=0.0,
                 maximize=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["t"] = 0
                    state["v"] = torch.zeros_like(p)
                    state["s"] = torch.zeros_like(p)
                state["t"] += 1
                t, v, s = state["t"], state["v"], state["s"]
                v[:] = beta1 * v + (1 - beta1) * g
                s[:] = s + (1 - beta2) * torch.sign(torch.square(g) - s) * torch.square(g)
                v_hat = v / (1 - beta1**t)
                s_hat = s / (1 - beta2**t)
                p -= group["lr"] * v_hat / (torch.sqrt(s_hat) + group["eps"])


def reference_class(algorithm: str) -> type[torch.optim.Optimizer]:
    """The optimizer course_lib is checked against."""
    if algorithm == "yogi":
        return D2LYogi
    return getattr(torch.optim, TORCH_NAMES[algorithm])


#: torch.optim's class name for each algorithm.
TORCH_NAMES = {
    "sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adadelta": "Adadelta",
    "adam": "Adam", "adamw": "AdamW", "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam",
}


# -- problems -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A loss over a list of parameters, its gradients in closed form, and a starting point.

    ``gradients`` is written out by hand (no autograd) so that a run costs little;
    a test checks it against autograd.
    """

    name: str
    initial: Callable[[torch.dtype], list[torch.Tensor]]
    loss: Callable[[Sequence[torch.Tensor]], torch.Tensor]
    gradients: Callable[[Sequence[torch.Tensor]], list[torch.Tensor]]


def _mlp_problem() -> Problem:
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(32, 4, generator=gen, dtype=torch.float64)
    targets = torch.sin(inputs.sum(dim=1, keepdim=True))
    start = [
        torch.randn(8, 4, generator=gen, dtype=torch.float64) * 0.5,
        torch.randn(8, generator=gen, dtype=torch.float64) * 0.1,
        torch.randn(1, 8, generator=gen, dtype=torch.float64) * 0.5,
        torch.randn(1, generator=gen, dtype=torch.float64) * 0.1,
    ]

    def forward(params: Sequence[torch.Tensor]):
        w1, b1, w2, b2 = params
        x, y = inputs.to(w1.dtype), targets.to(w1.dtype)
        hidden = torch.tanh(x @ w1.T + b1)
        return x, hidden, hidden @ w2.T + b2 - y

    def loss(params: Sequence[torch.Tensor]) -> torch.Tensor:
        return (forward(params)[2] ** 2).mean()

    def gradients(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        x, hidden, residual = forward(params)
        d_out = 2 * residual / residual.numel()          # d loss / d output
        d_pre = (d_out @ params[2]) * (1 - hidden**2)     # back through w2 and tanh
        return [d_pre.T @ x, d_pre.sum(0), d_out.T @ hidden, d_out.sum(0)]

    return Problem("mlp", lambda dtype: [p.to(dtype) for p in start], loss, gradients)


def _quadratic_problem() -> Problem:
    gen = torch.Generator().manual_seed(1)
    size, split = 20, 12
    rotation, _ = torch.linalg.qr(torch.randn(size, size, generator=gen, dtype=torch.float64))
    eigenvalues = torch.logspace(-2, 1, size, dtype=torch.float64)  # condition number 1000
    matrix = rotation @ torch.diag(eigenvalues) @ rotation.T
    shift = torch.randn(size, generator=gen, dtype=torch.float64)
    start = torch.randn(size, generator=gen, dtype=torch.float64)

    def loss(params: Sequence[torch.Tensor]) -> torch.Tensor:
        x = torch.cat([p.reshape(-1) for p in params])
        return 0.5 * x @ (matrix.to(x.dtype) @ x) - shift.to(x.dtype) @ x

    def gradients(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        x = torch.cat([p.reshape(-1) for p in params])
        grad = matrix.to(x.dtype) @ x - shift.to(x.dtype)
        return [grad[:split], grad[split:]]

    return Problem(
        "quadratic",
        lambda dtype: [start[:split].to(dtype), start[split:].to(dtype)],
        loss,
        gradients,
    )


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "mlp": _mlp_problem,
    "quadratic": _quadratic_problem,
}


def grad_is_dropped(step: int, index: int) -> bool:
    """Which gradients are set to None: a periodic pattern, plus parameter 0 frozen for a while."""
    return (step + index) % 7 == 3 or (index == 0 and 50 <= step < 60)


# -- trajectories -------------------------------------------------------------------------------


def torch_trajectory(
    make_optimizer: Callable[[list[torch.Tensor]], torch.optim.Optimizer],
    problem: Problem,
    start: Sequence[torch.Tensor],
    steps: int,
    sign: float = 1.0,
) -> torch.Tensor:
    """Parameters after each of ``steps`` updates, flattened: a ``(steps, n)`` float64 tensor."""
    params = [p.clone().requires_grad_() for p in start]
    opt = make_optimizer(params)
    path = torch.empty(steps, sum(p.numel() for p in params), dtype=torch.float64)
    for step in range(steps):
        with torch.no_grad():
            grads = problem.gradients(params)
        for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
            param.grad = None if grad_is_dropped(step, index) else sign * grad
        opt.step()
        path[step] = torch.cat([p.detach().reshape(-1) for p in params])
    return path


def array_trajectory(
    make_optimizer: Callable[[], ArrayOptimizer],
    problem: Problem,
    start: Sequence[torch.Tensor],
    steps: int,
    sign: float = 1.0,
) -> torch.Tensor:
    """The same, for the array optimizer on numpy copies of ``start``."""
    arrays = {str(i): p.numpy().copy() for i, p in enumerate(start)}
    views = [torch.from_numpy(a) for a in arrays.values()]  # share memory with the arrays
    opt = make_optimizer()
    path = torch.empty(steps, sum(p.numel() for p in start), dtype=torch.float64)
    for step in range(steps):
        grads = problem.gradients(views)
        opt.update(arrays, {
            str(i): None if grad_is_dropped(step, i) else (sign * g).numpy()
            for i, g in enumerate(grads)
        })
        path[step] = torch.cat([v.reshape(-1) for v in views])
    return path


@dataclass(frozen=True)
class Deviation:
    """How far a trajectory is from the reference's, over all steps."""

    max_abs: float
    max_rel: float
    within_float32_tolerance: bool

    @classmethod
    def between(cls, ours: torch.Tensor, reference: torch.Tensor) -> Deviation:
        diff = (ours - reference).abs()
        scale = reference.abs().amax(dim=1).clamp_min(torch.finfo(torch.float64).tiny)
        if not bool(torch.isfinite(ours).all()) and bool(torch.isfinite(reference).all()):
            return cls(math.inf, math.inf, False)
        diff = torch.nan_to_num(diff, nan=0.0)  # NaN where both are NaN: they agree
        return cls(
            max_abs=float(diff.max()),
            max_rel=float((diff.amax(dim=1) / scale).max()),
            within_float32_tolerance=bool(
                (diff <= FLOAT32_ATOL + FLOAT32_RTOL * reference.abs()).all()
            ),
        )


@dataclass(frozen=True)
class Comparison:
    """The reference against course_lib's two implementations, on one problem and dtype."""

    torch: Deviation
    array: Deviation
    sensitivity: float | None = None  # how far a one-ulp change of the start moves the reference


def compare(
    algorithm: str,
    options: dict[str, Any],
    problem: Problem,
    dtype: torch.dtype,
    steps: int = 200,
) -> Comparison:
    """Run the reference, course_lib's torch optimizer and its array optimizer; compare them.

    For float32, if the array optimizer (plain numpy arithmetic, rounding differently from
    torch's fused kernels) leaves torch's tolerance, the reference is run once more from a start
    moved by one ulp, to measure how much the problem itself amplifies rounding.
    """
    options = _materialize(options)
    sign = -1.0 if options.get("maximize") else 1.0
    start = problem.initial(dtype)
    reference_cls, ours_cls = reference_class(algorithm), optim.OPTIMIZERS[algorithm]
    array_options = {k: (float(v) if torch.is_tensor(v) else v) for k, v in options.items()}

    reference = torch_trajectory(lambda ps: reference_cls(ps, **options), problem, start, steps,
                                 sign)
    ours = torch_trajectory(lambda ps: ours_cls(ps, **options), problem, start, steps, sign)
    arrays = array_trajectory(lambda: ArrayOptimizer(algorithm, **array_options), problem,
                              start, steps, sign)
    torch_dev = Deviation.between(ours, reference)
    array_dev = Deviation.between(arrays, reference)
    sensitivity = None
    if dtype != torch.float64 and not array_dev.within_float32_tolerance:
        nudged = [torch.nextafter(p, torch.full_like(p, math.inf)) for p in start]
        control = torch_trajectory(lambda ps: reference_cls(ps, **options), problem, nudged,
                                   steps, sign)
        sensitivity = Deviation.between(control, reference).max_abs
    return Comparison(torch_dev, array_dev, sensitivity)


#: A float32 array run that leaves torch's tolerance still passes if its deviation is within
#: this factor of the problem's own sensitivity to a one-ulp change of the start.
SENSITIVITY_FACTOR = 10.0


def _passed(deviation: Deviation, dtype: torch.dtype, sensitivity: float | None = None) -> bool:
    if dtype == torch.float64:
        return deviation.max_rel <= FLOAT64_MAX_REL
    if deviation.within_float32_tolerance:
        return True
    return sensitivity is not None and deviation.max_abs <= SENSITIVITY_FACTOR * sensitivity


@dataclass(frozen=True)
class Result:
    """One row of the validation table."""

    algorithm: str
    options: str
    problem: str
    dtype: str
    implementation: str
    steps: int
    max_abs: float
    max_rel: float
    passed: bool
    sensitivity: float | None = None

    @property
    def verdict(self) -> str:
        if not self.passed:
            return "FAIL"
        return "ok" if self.sensitivity is None else "ok (sensitive)"

    def sensitivity_summary(self) -> str:
        """One line for a run judged by the one-ulp control, in orders of magnitude.

        bound(x) = 10^ceil(log10 x), for the deviation and for torch's own move. The digits
        themselves depend on the processor: PyTorch's float32 kernels round differently with
        different vector instructions (AVX2, AVX-512), so a chapter prints bounds, not digits.
        """
        if self.sensitivity is None:
            raise ValueError("sensitivity_summary: this run was not judged by the one-ulp "
                             "control (its sensitivity is None)")

        def bound(x: float) -> str:
            return f"1e{math.ceil(math.log10(x)):+03d}" if x > 0 else "0"

        within = self.max_abs <= SENSITIVITY_FACTOR * self.sensitivity
        return (f"{self.algorithm} ({self.options}, {self.dtype}, {self.implementation}): "
                f"largest deviation < {bound(self.max_abs)}; torch moved "
                f"< {bound(self.sensitivity)} by a one-ulp change of the start; deviation "
                f"within {SENSITIVITY_FACTOR:g}x of that: {within} -> {self.verdict}")


def _describe(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"


def run_validation(
    algorithms: Iterable[str] | None = None,
    problems: Iterable[str] | None = None,
    dtypes: Iterable[torch.dtype] = (torch.float64, torch.float32),
    steps: int = 200,
) -> list[Result]:
    """Every (algorithm, option set, problem, dtype), for both course_lib implementations."""
    results = []
    chosen = list(algorithms) if algorithms is not None else list(OPTION_SETS)
    for algorithm in chosen:
        for _label, options in OPTION_SETS[algorithm]:
            for problem_name in problems or PROBLEMS:
                problem = PROBLEMS[problem_name]()
                for dtype in dtypes:
                    comparison = compare(algorithm, options, problem, dtype, steps)
                    for implementation in ("torch", "array"):
                        dev = getattr(comparison, implementation)
                        sensitivity = comparison.sensitivity if implementation == "array" else None
                        results.append(
                            Result(
                                algorithm=algorithm,
                                options=_describe(options),
                                problem=problem_name,
                                dtype=str(dtype).replace("torch.", ""),
                                implementation=implementation,
                                steps=steps,
                                max_abs=dev.max_abs,
                                max_rel=dev.max_rel,
                                passed=_passed(dev, dtype, sensitivity),
                                sensitivity=sensitivity,
                            )
                        )
    return results


def text_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows of cells as left-aligned text columns under a header and a rule."""
    cells = [[str(c) for c in header]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1e}"
    return str(value)


def format_table(results: Sequence[Result]) -> str:
    """The validation table as aligned text."""
    header = ("algorithm", "options", "problem", "dtype", "ours", "steps", "max abs", "max rel",
              "1-ulp ctrl", "verdict")
    rows = [
        (r.algorithm, r.options, r.problem, r.dtype, r.implementation, r.steps, r.max_abs,
         r.max_rel, "" if r.sensitivity is None else r.sensitivity, r.verdict)
        for r in results
    ]
    return text_table(header, rows)


def format_per_algorithm(results: Sequence[Result], columns: Sequence[str] | None = None) -> str:
    """:func:`per_algorithm` as aligned text, optionally only some of its columns."""
    rows = per_algorithm(results)
    columns = list(columns or rows[0])
    return text_table(columns, ([row[c] for c in columns] for row in rows))


def summarize(results: Sequence[Result]) -> str:
    """One line per dtype and implementation: the worst deviations and the failures."""
    lines = []
    for dtype in sorted({r.dtype for r in results}, reverse=True):
        for implementation in ("torch", "array"):
            rows = [r for r in results if r.dtype == dtype and r.implementation == implementation]
            if not rows:
                continue
            failures = sum(not r.passed for r in rows)
            bitwise = sum(r.max_abs == 0 for r in rows)
            lines.append(
                f"{dtype} {implementation:5s}: {len(rows)} runs, {bitwise} bit-for-bit equal, "
                f"worst max abs {max(r.max_abs for r in rows):.1e}, worst max rel "
                f"{max(r.max_rel for r in rows):.1e}, {failures} failed"
            )
    return "\n".join(lines)


def per_algorithm(results: Sequence[Result]) -> list[dict[str, Any]]:
    """One row per algorithm: runs, how many torch-optimizer runs are bit-for-bit equal to the
    reference, the worst relative deviations, and whether every run met its target."""
    rows = []
    for algorithm in dict.fromkeys(r.algorithm for r in results):
        mine = [r for r in results if r.algorithm == algorithm]
        torch_rows = [r for r in mine if r.implementation == "torch"]
        rows.append({
            "algorithm": algorithm,
            "option sets": len({r.options for r in mine}),
            "runs": len(mine),
            "torch bit-for-bit": f"{sum(r.max_abs == 0 for r in torch_rows)}/{len(torch_rows)}",
            "worst rel f64": max(r.max_rel for r in mine if r.dtype == "float64"),
            "worst rel f32": max(r.max_rel for r in mine if r.dtype == "float32"),
            "all within target": all(r.passed for r in mine),
        })
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_lib validate``: print the tables; exit 1 if any row fails."""
    parser = argparse.ArgumentParser(prog="python -m course_lib validate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append",
                        choices=["optimizers", "schedules", "clipping", "keras"],
                        help="validate only this part (repeatable; default: all)")
    parser.add_argument("--algorithm", action="append", choices=list(OPTION_SETS),
                        help="only this optimizer (repeatable)")
    parser.add_argument("--steps", type=int, default=200,
                        help="steps per optimizer run (default 200)")
    parser.add_argument("--keras-sets", type=int, default=3,
                        help="random Keras option sets per optimizer, besides the defaults "
                             "(default 3)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    parts = args.only or ["optimizers", "schedules", "clipping", "keras"]
    torch.set_num_threads(1)
    started = time.perf_counter()
    failures = 0
    if "optimizers" in parts:
        results = run_validation(args.algorithm, steps=args.steps)
        print("Optimizers: course_lib against torch.optim\n")
        print(format_table(results))
        print()
        print(summarize(results))
        failures += sum(not r.passed for r in results)
    if "schedules" in parts or "clipping" in parts:
        from course_lib import schedule_parity

        schedule_rows, clip_rows = schedule_parity.run()
        if "schedules" in parts:
            print("\nSchedules: course_lib.schedules against torch.optim.lr_scheduler "
                  f"(target: max abs <= {schedule_parity.SCHEDULE_TOLERANCE:g})\n")
            print(text_table(("scheduler", "parameters", "steps", "max abs", "verdict"),
                             schedule_rows))
            failures += sum(row[-1] != "ok" for row in schedule_rows)
        if "clipping" in parts:
            print("\nClipping: course_lib.clipping against torch.nn.utils "
                  "(torch parameters bit for bit; numpy to 1e-12 relative)\n")
            print(text_table(("function", "options", "torch bit-for-bit", "numpy max rel",
                              "verdict"), clip_rows))
            failures += sum(row[-1] != "ok" for row in clip_rows)
    if "keras" in parts:
        failures += _validate_keras(args)
    print(f"\nvalidated in {time.perf_counter() - started:.1f} s")
    if failures:
        print(f"{failures} run(s) FAILED", file=sys.stderr)
        return 1
    return 0


# -- a learner's trajectory (used by course_lib.grading; added for the exercises) -----------------


def agrees(ours: Any, reference: Any,
           dtype: torch.dtype = torch.float64) -> tuple[bool, int | None]:
    """Whether a trajectory meets this module's target against the reference's, and where not.

    ``ours`` and ``reference`` are ``(steps, n)`` arrays (a row per step); the verdict is the
    one :func:`run_validation` gives course_lib (:class:`Deviation` and the float64 or float32
    target). Returns ``(True, None)``, or ``(False, k)`` with k the first row that misses the
    target on its own (or 0 if the shapes differ).

    >>> agrees([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0 + 1e-14]])
    (True, None)
    >>> agrees([[1.0, 2.0], [3.0, 4.5]], [[1.0, 2.0], [3.0, 4.0]])
    (False, 1)
    """
    ours = torch.as_tensor(ours, dtype=torch.float64)
    reference = torch.as_tensor(reference, dtype=torch.float64)
    if ours.shape != reference.shape or ours.ndim != 2:
        return False, 0
    if _passed(Deviation.between(ours, reference), dtype):
        return True, None
    for row in range(reference.shape[0]):
        if not _passed(Deviation.between(ours[row:row + 1], reference[row:row + 1]), dtype):
            return False, row
    return False, reference.shape[0] - 1


def _validate_keras(args: argparse.Namespace) -> int:
    """The Keras side: course_lib's convention="keras" against Keras 3 itself; failures."""
    from course_lib import keras_parity, keras_style

    reason = keras_parity.keras_available()
    if reason is not None:
        print(f"\nKeras convention: not validated, Keras 3 (torch backend) is unavailable: "
              f"{reason}")
        return 0
    import keras

    names = [n for n in keras_style.KERAS_OPTIMIZERS
             if args.algorithm is None or n in args.algorithm]
    if not names:
        return 0
    results = keras_parity.run(names, steps=args.steps, random_sets=args.keras_sets)
    print(f"\nKeras convention: course_lib.keras_style against Keras {keras.__version__} "
          "(torch backend), defaults and random option sets (targets: float64 1e-12 relative, "
          "1e-7 with clipnorm/global_clipnorm; float32 1e-6, or within 3x Keras' own float32 "
          "error)\n")
    print(keras_parity.format_table(results))
    print()
    print(keras_parity.format_summary(results))
    return sum(not r.passed for r in results)
