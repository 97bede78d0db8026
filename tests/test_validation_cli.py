"""`python -m course_lib validate` prints the table and fails loudly when parity breaks."""

import os
import subprocess
import sys

import torch

from course_lib import optim, validation
from course_lib import rules as rules_module


def test_cli_prints_the_tables_and_exits_zero():
    out = subprocess.run(
        [sys.executable, "-m", "course_lib", "validate", "--algorithm", "sgd", "--steps", "20",
         "--only", "optimizers", "--only", "schedules", "--only", "clipping"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = next(line for line in lines if line.startswith("algorithm"))
    for column in ("algorithm", "options", "dtype", "steps", "max abs", "max rel", "verdict"):
        assert column in header
    assert "float64 torch: 18 runs, 18 bit-for-bit equal" in out.stdout
    for title in ("Optimizers:", "Schedules:", "Clipping:"):
        assert any(line.startswith(title) for line in lines)
    assert any(line.startswith("OneCycleLR") and line.endswith("ok") for line in lines)
    assert any(line.startswith("clip_grad_norm_") for line in lines)


def test_cli_shows_the_keras_side():
    out = subprocess.run(
        [sys.executable, "-m", "course_lib", "validate", "--only", "keras", "--algorithm",
         "adam", "--steps", "20", "--keras-sets", "1"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("Keras convention: course_lib.keras_style against Keras 3")
               for line in lines)
    rows = [line for line in lines if line.startswith("adam ")]
    assert len(rows) == 2 * 2 * 2 + 1  # 2 option sets x 2 problems x 2 dtypes, and the summary
    assert all(line.rstrip().endswith(("ok", "True", "ok (f32 rounding)")) for line in rows)


def test_a_wrong_keras_rule_fails_the_keras_rows(monkeypatch):
    from course_lib import keras_parity, keras_style
    from course_lib.rules import keras as keras_rules

    class WrongDefault(keras_rules.KerasAdagrad):
        defaults = {**keras_rules.KerasAdagrad.defaults, "initial_accumulator_value": 0.0}

    spec = keras_style.KERAS_OPTIMIZERS["adagrad"]
    monkeypatch.setitem(keras_style.KERAS_OPTIMIZERS, "adagrad",
                        keras_style.KerasSpec("Adagrad", WrongDefault, spec.arguments))
    results = keras_parity.run(["adagrad"], problems=["quadratic"], steps=10, random_sets=0)
    assert results and not any(r.passed for r in results)


def test_cli_parts_can_be_chosen():
    out = subprocess.run(
        [sys.executable, "-m", "course_lib", "validate", "--only", "clipping"],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0
    assert "Clipping:" in out.stdout and "Optimizers:" not in out.stdout


def test_cli_usage():
    out = subprocess.run([sys.executable, "-m", "course_lib"], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 2 and "validate" in out.stdout


class SlightlyWrongSGD(optim.SGD):
    """SGD whose learning rate is off by one part in a million: parity must catch it."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-group["lr"] * 1e-6)
        return super().step(closure)


def test_a_wrong_optimizer_fails_validation(monkeypatch, capsys):
    monkeypatch.setitem(optim.OPTIMIZERS, "sgd", SlightlyWrongSGD)
    assert validation.main(["--only", "optimizers", "--algorithm", "sgd", "--steps", "30"]) == 1
    captured = capsys.readouterr()
    assert "FAIL" in captured.out and "FAILED" in captured.err


def test_a_wrong_rule_fails_the_array_rows(monkeypatch):
    class WrongMomentum(rules_module.SGD):
        def step(self, param, grad, state, hp=None):
            super().step(param, grad * 1.001, state, hp)

    monkeypatch.setitem(rules_module.RULES, "sgd", WrongMomentum)
    results = validation.run_validation(["sgd"], problems=["quadratic"], steps=30)
    arrays = [r for r in results if r.implementation == "array" and r.options != "defaults"]
    assert arrays and not any(r.passed for r in arrays if r.dtype == "float64")
