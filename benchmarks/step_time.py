"""Time one optimizer step of course_lib.optim against torch.optim's three CPU paths.

    python benchmarks/step_time.py              # the full measurement (a minute or two)
    python benchmarks/step_time.py --quick      # a smoke run on small shapes
    python benchmarks/step_time.py --subnormal  # what subnormal state costs, and the cure

Optimizers: Adam (defaults) and SGD with momentum 0.9. Shapes: (a) 100 tensors of 10k
parameters; (b) an MLP of about 1M parameters (784-1024-256-10, ReLU) whose gradients come from
a real backward pass of a cross-entropy loss on a fixed batch, so they have the structure a user
meets (exact zeros where a ReLU unit is off), not i.i.d. noise. Columns: torch's default CPU
path (a for-loop over tensors: torch never defaults to foreach or fused on the CPU), torch with
``foreach=True``, torch with ``fused=True``, and course_lib; each the median over the measured
steps after warm-up, all four interleaved step by step so that they see the same machine load.
The ratio is course_lib / torch's default. Target: at most 1.5.

Why the defaults are what they are (measured on the course's 2-core machine, load ~9):

* ``--threads 1``. With 2 intra-op threads on 2 shared cores, every elementwise op waits at a
  barrier for whichever thread was descheduled: one Adam step on the MLP took 381 ms (median)
  against 25 ms (best) and 14-25 ms with one thread; SGD, with a third of the ops, 23 ms against
  1 ms. That contention, not the optimizer's work, produced the 135 ms once reported for Adam.
* The state is checked for subnormal numbers after the measurement (the "subnormal" column).
  With the benchmark's gradients there are none. In long real training there can be: where a
  gradient stays exactly 0 (a dead ReLU unit), Adam's ``exp_avg`` decays by 0.9 per step into
  the subnormal range within ~800 steps and sticks at 5.6e-45 (0.9 x 4 x 1.4e-45 rounds back
  to 4 x 1.4e-45), and after ~80k steps ``exp_avg_sq`` sticks at 7.0e-43 (checked in
  tests/test_benchmarks.py); arithmetic on subnormals is several times slower on x86.
  ``--subnormal`` measures that case, and the cure, ``torch.set_flush_denormal(True)``.

Nothing here is asserted in the test suite: speed is measured, not tested.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from course_lib import optim

OPTIMIZERS: dict[str, tuple[str, dict]] = {
    "Adam": ("Adam", {}),
    "SGD momentum 0.9": ("SGD", {"lr": 1e-3, "momentum": 0.9}),
}

#: The torch paths timed beside course_lib: label -> extra constructor arguments.
TORCH_PATHS = {"torch": {}, "foreach": {"foreach": True}, "fused": {"fused": True}}


def many_tensors(count: int, size: int) -> Callable[[], list[torch.Tensor]]:
    def make() -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(0)
        params = [torch.randn(size, generator=gen).requires_grad_() for _ in range(count)]
        for p in params:
            p.grad = torch.randn(size, generator=gen)
        return params

    return make


def mlp(widths: tuple[int, ...], batch: int = 64) -> Callable[[], list[torch.Tensor]]:
    """An MLP's parameters with the gradients of one real backward pass (ReLU, cross-entropy)."""
    def make() -> list[torch.Tensor]:
        torch.manual_seed(0)
        layers: list[torch.nn.Module] = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
        gen = torch.Generator().manual_seed(1)
        inputs = torch.rand(batch, widths[0], generator=gen)
        labels = torch.randint(0, widths[-1], (batch,), generator=gen)
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        return list(model.parameters())

    return make


def subnormal_count(opt: torch.optim.Optimizer) -> int:
    """How many floating-point entries of the optimizer's state are subnormal."""
    count = 0
    for state in opt.state.values():
        for value in state.values():
            if torch.is_tensor(value) and value.is_floating_point() and value.dim() > 0:
                tiny = torch.finfo(value.dtype).tiny
                count += int(((value != 0) & (value.abs() < tiny)).sum())
    return count


def measure(make_params, name: str, options: dict, steps: int, warmup: int):
    """Median and best seconds per step of each torch path and of course_lib, interleaved."""
    optimizers = {label: getattr(torch.optim, name)(make_params(), **options, **extra)
                  for label, extra in TORCH_PATHS.items()}
    optimizers["ours"] = getattr(optim, name)(make_params(), **options)
    times: dict[str, list[float]] = {label: [] for label in optimizers}
    for step in range(warmup + steps):
        for label, opt in optimizers.items():
            start = time.perf_counter()
            opt.step()
            elapsed = time.perf_counter() - start
            if step >= warmup:
                times[label].append(elapsed)
    medians = {label: statistics.median(t) for label, t in times.items()}
    best = {label: min(t) for label, t in times.items()}
    subnormal = max(subnormal_count(opt) for opt in optimizers.values())
    return medians, best, subnormal


def subnormal_demo(steps: int) -> None:
    """Adam on 1M parameters whose state is subnormal, with and without flushing to zero."""
    def make(tiny_state: bool) -> tuple[torch.optim.Optimizer, list[torch.Tensor]]:
        param = torch.randn(1_000_000, generator=torch.Generator().manual_seed(0))
        param.requires_grad_()
        param.grad = torch.zeros_like(param)  # a unit that stays off: zero gradient
        opt = optim.Adam([param])
        opt.step()
        if tiny_state:  # where ~1000 steps of zero gradient leave Adam's state
            state = opt.state[param]
            state["exp_avg"].fill_(5.6e-45)
            state["exp_avg_sq"].fill_(7.0e-43)
        return opt, [param]

    print("\nAdam, 1M parameters, zero gradient (a dead unit), median ms per step:")
    for flush in (False, True):
        torch.set_flush_denormal(flush)
        row = []
        for tiny_state in (False, True):
            opt, _ = make(tiny_state)
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                opt.step()
                times.append(time.perf_counter() - start)
            row.append(statistics.median(times) * 1e3)
        print(f"  flush_denormal={flush!s:5s}  normal state {row[0]:8.3f}   "
              f"subnormal state {row[1]:8.3f}   ratio {row[1] / row[0]:5.1f}")
    torch.set_flush_denormal(False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=40, help="measured steps (default 40)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1: see the module docstring)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, few steps")
    parser.add_argument("--subnormal", action="store_true",
                        help="also time Adam on subnormal state, with and without flushing")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        shapes = {"(a) 10 x 1k": many_tensors(10, 1_000), "(b) MLP 32-64-10": mlp((32, 64, 10))}
        args.steps, args.warmup = min(args.steps, 5), 1
    else:
        shapes = {"(a) 100 x 10k": many_tensors(100, 10_000),
                  "(b) MLP 784-1024-256-10": mlp((784, 1024, 256, 10))}

    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, "
          f"median of {args.steps} steps after {args.warmup} warm-up steps, interleaved "
          "(best in brackets)")
    print(f"{'shape':24s} {'optimizer':17s} {'params':>8s} {'torch ms':>17s} "
          f"{'foreach ms':>17s} {'fused ms':>17s} {'ours ms':>17s} {'ratio':>6s} "
          f"{'subnormal':>9s}")
    worst = 0.0
    for shape, make in shapes.items():
        count = sum(p.numel() for p in make())
        for label, (name, options) in OPTIMIZERS.items():
            medians, best, subnormal = measure(make, name, options, args.steps, args.warmup)
            ratio = medians["ours"] / medians["torch"]
            worst = max(worst, ratio)
            cells = " ".join(f"{medians[k] * 1e3:8.3f} ({best[k] * 1e3:6.3f})"
                             for k in ("torch", "foreach", "fused", "ours"))
            print(f"{shape:24s} {label:17s} {count:8d} {cells} {ratio:6.2f} {subnormal:9d}")
    print(f"worst ratio course_lib / torch: {worst:.2f} (target <= 1.5)")
    if args.subnormal:
        subnormal_demo(5 if args.quick else 20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
