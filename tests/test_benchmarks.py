"""The benchmark scripts run (their numbers are reported, never asserted), and the facts their
explanations rest on hold."""

import pathlib
import subprocess
import sys

import pytest
import torch

from course_lib import optim

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMALLEST_SUBNORMAL = torch.finfo(torch.float32).smallest_normal * 2.0**-23  # 1.4e-45


def test_step_time_quick_run_prints_every_column():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "step_time.py"), "--quick", "--subnormal"],
        capture_output=True, text=True, check=True,
    )
    assert "worst ratio course_lib / torch" in out.stdout
    header = next(line for line in out.stdout.splitlines() if line.startswith("shape"))
    for column in ("torch ms", "foreach ms", "fused ms", "ours ms", "ratio", "subnormal"):
        assert column in header
    assert out.stdout.count("Adam") >= 2 and out.stdout.count("SGD momentum") >= 2
    assert "flush_denormal=True" in out.stdout
    assert "threads=1" in out.stdout


def test_benchmark_gradients_hold_no_subnormals_and_real_zeros():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import step_time
    finally:
        sys.path.pop(0)
    params = step_time.mlp((32, 64, 10))()
    grads = torch.cat([p.grad.reshape(-1) for p in params])
    assert (grads == 0).any()  # ReLU units that are off: exact zeros, as in real training
    opt = optim.Adam(params)
    for _ in range(5):
        opt.step()
    assert step_time.subnormal_count(opt) == 0


@pytest.mark.parametrize("module", [optim, torch.optim])
def test_adam_state_of_a_dead_unit_sticks_in_the_subnormal_range(module):
    """The benchmark's note: with a zero gradient, exp_avg decays by 0.9 per step and sticks at
    4 x 1.4e-45 (0.9 x 4 rounds back to 4); exp_avg_sq, by 0.999, sticks at 500 x 1.4e-45."""
    param = torch.ones(3, requires_grad=True)
    opt = module.Adam([param])
    param.grad = torch.full((3,), 1e-3)
    opt.step()
    param.grad = torch.zeros(3)
    for _ in range(1000):
        opt.step()
    state = opt.state[param]
    assert torch.all(state["exp_avg"] == 4 * SMALLEST_SUBNORMAL)
    state["exp_avg_sq"].fill_(1e-41)   # skip the ~70k steps it takes to get down there
    for _ in range(3000):
        opt.step()
    assert torch.all(state["exp_avg_sq"] == 500 * SMALLEST_SUBNORMAL)
    assert 500 * SMALLEST_SUBNORMAL == pytest.approx(7.0e-43, rel=0.01)


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_every_benchmark_script_starts(script):
    """Its imports resolve (the browser ones reach tests/browser as the package ``browser``)."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--help"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.startswith("usage:"), out.stderr[-2000:]
