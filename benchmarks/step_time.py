"""Time one optimizer step of course_lib.optim against torch.optim's default CPU path.

    python benchmarks/step_time.py            # the full measurement (about a minute)
    python benchmarks/step_time.py --quick    # a smoke run on small shapes

Optimizers: Adam (defaults) and SGD with momentum 0.9. Shapes: (a) 100 tensors of 10k parameters,
(b) an MLP of about 1M parameters (784-1024-256-10). Gradients are fixed random tensors, so a
step does the same work every time. Each step of torch and of course_lib alternates
(interleaved), so both see the same machine load; the report is the median over the measured
steps after warm-up, and the ratio course_lib / torch. Target: at most 1.5.

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


def many_tensors(count: int, size: int) -> Callable[[], list[torch.Tensor]]:
    def make() -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(0)
        params = [torch.randn(size, generator=gen).requires_grad_() for _ in range(count)]
        for p in params:
            p.grad = torch.randn(size, generator=gen)
        return params

    return make


def mlp(widths: tuple[int, ...]) -> Callable[[], list[torch.Tensor]]:
    def make() -> list[torch.Tensor]:
        torch.manual_seed(0)
        layers = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
        params = list(torch.nn.Sequential(*layers[:-1]).parameters())
        for p in params:
            p.grad = torch.randn_like(p)
        return params

    return make


def measure(make_params, name: str, options: dict, steps: int, warmup: int):
    """Median seconds per step for torch.optim and course_lib.optim, interleaved."""
    torch_opt = getattr(torch.optim, name)(make_params(), **options)
    ours_opt = getattr(optim, name)(make_params(), **options)
    times: dict[str, list[float]] = {"torch": [], "ours": []}
    for step in range(warmup + steps):
        for label, opt in (("torch", torch_opt), ("ours", ours_opt)):
            start = time.perf_counter()
            opt.step()
            elapsed = time.perf_counter() - start
            if step >= warmup:
                times[label].append(elapsed)
    return statistics.median(times["torch"]), statistics.median(times["ours"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="measured steps (default 60)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, few steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        shapes = {"(a) 10 x 1k": many_tensors(10, 1_000), "(b) MLP 32-64-10": mlp((32, 64, 10))}
        args.steps, args.warmup = min(args.steps, 5), 1
    else:
        shapes = {"(a) 100 x 10k": many_tensors(100, 10_000),
                  "(b) MLP 784-1024-256-10": mlp((784, 1024, 256, 10))}

    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, "
          f"median of {args.steps} steps after {args.warmup} warm-up steps, interleaved")
    print(f"{'shape':26s} {'optimizer':18s} {'params':>9s} {'torch ms':>9s} {'ours ms':>9s} "
          f"{'ratio':>6s}")
    worst = 0.0
    for shape, make in shapes.items():
        count = sum(p.numel() for p in make())
        for label, (name, options) in OPTIMIZERS.items():
            t_torch, t_ours = measure(make, name, options, args.steps, args.warmup)
            ratio = t_ours / t_torch
            worst = max(worst, ratio)
            print(f"{shape:26s} {label:18s} {count:9d} {t_torch * 1e3:9.3f} {t_ours * 1e3:9.3f} "
                  f"{ratio:6.2f}")
    print(f"worst ratio course_lib / torch: {worst:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
