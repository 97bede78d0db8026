"""course_lib against d2l's own code: d2l.train_2d with d2l-style trainers on the book's demos.

d2l is not a runtime dependency (it pins old numpy/matplotlib/pandas/scipy, and its torch
module imports torchvision). `make setup` installs d2l 1.0.3 with --no-deps for this test only.

`from d2l import torch as d2l` imports torchvision at load time, and torchvision has no CPU build
on the course machines. So the d2l code runs in a subprocess whose path holds a minimal stand-in
package named torchvision: it only satisfies that import. d2l's optimization helpers
(train_2d and friends) never touch torchvision.
"""

import importlib.util
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from course_lib import objectives, trajectories

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("d2l") is None, reason="d2l is installed by `make setup` (--no-deps)"
)

# The trainers, written the way d2l's optimization chapter writes them.
D2L_SCRIPT = textwrap.dedent('''
    import json, math, sys
    from d2l import torch as d2l

    def f_grad_bowl(x1, x2):          # f = x1^2 + 2 x2^2
        return 2 * x1, 4 * x2

    def f_grad_stretched(x1, x2):     # f = 0.1 x1^2 + 2 x2^2
        return 0.2 * x1, 4 * x2

    def gd_2d(eta):
        def trainer(x1, x2, s1, s2, f_grad):
            g1, g2 = f_grad(x1, x2)
            return (x1 - eta * g1, x2 - eta * g2, 0, 0)
        return trainer

    def momentum_2d(eta, beta):
        def trainer(x1, x2, v1, v2):
            v1 = beta * v1 + 0.2 * x1
            v2 = beta * v2 + 4 * x2
            return x1 - eta * v1, x2 - eta * v2, v1, v2
        return trainer

    def adagrad_2d(eta, eps=1e-6):
        def trainer(x1, x2, s1, s2):
            g1, g2 = 0.2 * x1, 4 * x2
            s1 += g1 ** 2
            s2 += g2 ** 2
            x1 -= eta / math.sqrt(s1 + eps) * g1
            x2 -= eta / math.sqrt(s2 + eps) * g2
            return x1, x2, s1, s2
        return trainer

    def rmsprop_2d(eta, gamma, eps=1e-6):
        def trainer(x1, x2, s1, s2):
            g1, g2 = 0.2 * x1, 4 * x2
            s1 = gamma * s1 + (1 - gamma) * g1 ** 2
            s2 = gamma * s2 + (1 - gamma) * g2 ** 2
            x1 -= eta / math.sqrt(s1 + eps) * g1
            x2 -= eta / math.sqrt(s2 + eps) * g2
            return x1, x2, s1, s2
        return trainer

    demos = {
        "gd bowl 0.1": (gd_2d(0.1), f_grad_bowl),
        "gd stretched 0.4": (gd_2d(0.4), f_grad_stretched),
        "gd stretched 0.6": (gd_2d(0.6), f_grad_stretched),
        "momentum 0.6 0.5": (momentum_2d(0.6, 0.5), None),
        "momentum 0.6 0.25": (momentum_2d(0.6, 0.25), None),
        "adagrad 0.4": (adagrad_2d(0.4), None),
        "adagrad 2": (adagrad_2d(2.0), None),
        "rmsprop 0.4 0.9": (rmsprop_2d(0.4, 0.9), None),
        # the same with eps = 0, where inside and outside the root coincide
        "adagrad 0.4 eps 0": (adagrad_2d(0.4, 0.0), None),
        "adagrad 2 eps 0": (adagrad_2d(2.0, 0.0), None),
        "rmsprop 0.4 0.9 eps 0": (rmsprop_2d(0.4, 0.9, 0.0), None),
    }
    out = {}
    for name, (trainer, f_grad) in demos.items():
        results = d2l.train_2d(trainer, 20, f_grad=f_grad)
        out[name] = [[float(a), float(b)] for a, b in results]
    sys.stderr.write(json.dumps(out))
''')


@pytest.fixture(scope="module")
def d2l_runs(tmp_path_factory):
    stand_in = tmp_path_factory.mktemp("stand_in") / "torchvision"
    stand_in.mkdir()
    (stand_in / "__init__.py").write_text(
        '"""Stand-in for torchvision: d2l.torch imports it at load time; nothing here uses it."""\n'
        "from . import transforms  # noqa: F401\n"
    )
    (stand_in / "transforms.py").write_text('"""Stand-in: never used by the tests."""\n')
    env_path = str(stand_in.parent)
    run = subprocess.run(
        [sys.executable, "-c", D2L_SCRIPT], capture_output=True, text=True, check=False,
        env={"PYTHONPATH": env_path, "MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stderr.strip().splitlines()[-1]), run.stdout.splitlines()


EXACT = {"rtol": 1e-13, "atol": 1e-15}
# d2l puts eps = 1e-6 inside the square root, torch (and course_lib) eps = 1e-10 outside it:
# the book's paths then agree only to about 1e-4 relative (the gap grows as the accumulated
# squares shrink). With eps = 0 on both sides the update forms must agree to rounding.
EPS_PLACEMENT = {"rtol": 2e-4, "atol": 1e-6}

# (d2l demo, course_lib rule, objective, hyperparameters, tolerance)
DEMOS = [
    ("gd bowl 0.1", "sgd", "bowl", {"lr": 0.1}, EXACT),
    ("gd stretched 0.4", "sgd", "stretched_bowl", {"lr": 0.4}, EXACT),
    ("gd stretched 0.6", "sgd", "stretched_bowl", {"lr": 0.6}, EXACT),
    ("momentum 0.6 0.5", "sgd", "stretched_bowl", {"lr": 0.6, "momentum": 0.5}, EXACT),
    ("momentum 0.6 0.25", "sgd", "stretched_bowl", {"lr": 0.6, "momentum": 0.25}, EXACT),
    ("adagrad 0.4", "adagrad", "stretched_bowl", {"lr": 0.4}, EPS_PLACEMENT),
    ("adagrad 2", "adagrad", "stretched_bowl", {"lr": 2.0}, EPS_PLACEMENT),
    ("rmsprop 0.4 0.9", "rmsprop", "stretched_bowl", {"lr": 0.4, "alpha": 0.9}, EPS_PLACEMENT),
    ("adagrad 0.4 eps 0", "adagrad", "stretched_bowl", {"lr": 0.4, "eps": 0.0}, EXACT),
    ("adagrad 2 eps 0", "adagrad", "stretched_bowl", {"lr": 2.0, "eps": 0.0}, EXACT),
    ("rmsprop 0.4 0.9 eps 0", "rmsprop", "stretched_bowl",
     {"lr": 0.4, "alpha": 0.9, "eps": 0.0}, EXACT),
]


@pytest.mark.parametrize(("demo", "rule", "objective", "options", "tolerance"), DEMOS,
                         ids=[d[0] for d in DEMOS])
def test_course_lib_follows_d2ls_train_2d(d2l_runs, demo, rule, objective, options, tolerance):
    results, _ = d2l_runs
    ours = trajectories.run(rule, objectives.get(objective), (-5.0, -2.0), 20, **options)
    np.testing.assert_allclose(ours.points, np.array(results[demo]), **tolerance)


def test_printed_lines_match(d2l_runs, capsys):
    _, printed = d2l_runs
    trajectories.report(trajectories.run("sgd", objectives.bowl(), (-5.0, -2.0), 20, lr=0.1),
                        unit="epoch")  # d2l calls a step an epoch
    assert capsys.readouterr().out.strip() == printed[0]
    assert printed[0] == "epoch 20, x1: -0.057646, x2: -0.000073"
