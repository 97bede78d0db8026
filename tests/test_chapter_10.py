"""The quantitative claims of chapters/10_adam.ipynb, each checked against independent math.

Every number the chapter's prose states is recomputed here with course_lib and compared with a
hand-worked closed form, a plain-Python transcription of the paper's formula, or torch.optim.
"""

import json
import math
import pathlib
import re

import numpy as np
import pytest
import torch

from course_lib import data, objectives, optim, rules, training, trajectories, validation
from course_lib.articles import article_000 as a000

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "10_adam.ipynb"

BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


def printed_line(prefix):
    """The first line the stored notebook printed (stdout) that starts with ``prefix``."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(out.get("text", "")) for cell in cells if cell["cell_type"] == "code"
                   for out in cell["outputs"] if out.get("output_type") == "stream")
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert lines, f"the notebook prints no line starting with {prefix!r}"
    return lines[0]


def printed_table(header_prefix):
    """The rows of the table the stored notebook printed under a header starting with
    ``header_prefix``: row label -> its cells (columns are separated by two or more spaces)."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join("".join(out.get("text", "")) for cell in cells if cell["cell_type"] == "code"
                   for out in cell["outputs"] if out.get("output_type") == "stream")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_prefix))
    rows = {}
    for line in lines[start + 2:]:
        fields = re.split(r"\s{2,}", line.strip())
        if len(fields) < 2:
            break
        rows[fields[0]] = fields[1:]
    return rows


def run_constant_gradient(rule, grad, updates):
    """Run ``rule`` with a constant gradient; return m, v and the step of every update."""
    theta = np.ones_like(grad)
    state = rule.init(theta)
    m, v, step = [], [], []
    for _ in range(updates):
        before = theta.copy()
        rule.step(theta, grad, state)
        m.append(state["exp_avg"].copy())
        v.append(state["exp_avg_sq"].copy())
        step.append(before - theta)
    return np.array(m), np.array(v), np.array(step)


# -- bias correction ------------------------------------------------------------------------


def test_bias_correction_gives_back_a_constant_gradient():
    g = np.array([0.5, -2.0])
    m, v, step = run_constant_gradient(rules.Adam(lr=0.1), g, 2000)
    t = np.arange(1, 2001)[:, None]
    # geometric series: m_t = (1 - b1^t) g, v_t = (1 - b2^t) g^2
    np.testing.assert_allclose(m, (1 - BETA1**t) * g, rtol=1e-12)
    np.testing.assert_allclose(v, (1 - BETA2**t) * g**2, rtol=1e-12)
    np.testing.assert_allclose(m / (1 - BETA1**t), np.broadcast_to(g, m.shape), rtol=1e-12)
    np.testing.assert_allclose(v / (1 - BETA2**t), np.broadcast_to(g**2, v.shape), rtol=1e-12)
    # printed table: m_1 = 0.05, v_1 = 0.00025 for g = 0.5
    assert m[0, 0] == pytest.approx(0.05) and v[0, 0] == pytest.approx(0.00025)
    # every step is lr / (1 + eps/|g|): within 2e-8 of lr for |g| = 0.5
    expected = np.broadcast_to(0.1 / (1 + EPS / np.abs(g)), step.shape)
    np.testing.assert_allclose(np.abs(step), expected, rtol=1e-9)
    assert abs(step[0, 0] - 0.1) / 0.1 < 2.1e-8


def test_step_lengths_without_bias_correction():
    g = np.array([0.5])
    m, v, _ = run_constant_gradient(rules.Adam(lr=0.1), g, 2000)
    t = np.arange(1, 2001)
    m, v = m[:, 0], v[:, 0]
    uncorrected = m / (np.sqrt(v) + EPS)
    only_m = m / (1 - BETA1**t) / (np.sqrt(v) + EPS)
    only_v = m / (np.sqrt(v / (1 - BETA2**t)) + EPS)
    # m / (sqrt(v) + eps) = (1 - b1^t) / sqrt(1 - b2^t), up to eps
    hand = [(1 - BETA1**k) * 0.5 / (math.sqrt(1 - BETA2**k) * 0.5 + EPS) for k in range(1, 2001)]
    np.testing.assert_allclose(uncorrected, hand, rtol=1e-10)
    assert uncorrected[0] == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-6)  # 3.162
    assert round(uncorrected[0], 3) == 3.162
    assert only_m[0] == pytest.approx(1 / math.sqrt(0.001), rel=1e-6)  # 31.62
    assert only_v[0] == pytest.approx(0.1, rel=1e-6)
    peak = int(np.argmax(hand)) + 1
    assert peak == 12 and round(max(hand), 1) == 6.6
    assert int(np.argmax(uncorrected)) + 1 == 12
    assert uncorrected[-1] > 1.05  # still above lr after 2000 updates ("thousands of updates")
    # after one update m holds 10% of g, sqrt(v) about 3.2% of |g|
    assert m[0] / g[0] == pytest.approx(0.1)
    assert math.sqrt(v[0]) / g[0] == pytest.approx(0.0316, rel=1e-3)


# -- the step counter t -----------------------------------------------------------------------


def five_updates(cls, set_to_none=True, record=None):
    shared = torch.tensor([1.0, -2.0], requires_grad=True)
    branch = torch.tensor([0.5, 3.0], requires_grad=True)
    optimizer = cls([shared, branch], lr=0.1)
    for k in range(1, 6):
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = (shared**2).sum()
        if k % 2 == 1:
            loss = loss + (branch**2).sum()
        loss.backward()
        before = branch.detach().clone()
        optimizer.step()
        if record is not None:
            record.append(not torch.equal(before, branch.detach()))
    return optimizer, shared, branch


def state_equal(a, b):
    sa, sb = a.state_dict()["state"], b.state_dict()["state"]
    return sa.keys() == sb.keys() and all(
        sa[i].keys() == sb[i].keys() and all(torch.equal(sa[i][k], sb[i][k]) for k in sa[i])
        for i in sa
    )


@pytest.mark.parametrize("set_to_none, branch_steps", [(True, 3), (False, 5)])
def test_none_gradient_does_not_advance_t(set_to_none, branch_steps):
    moved = {}
    runs = {}
    for name, cls in [("ours", optim.Adam), ("torch", torch.optim.Adam)]:
        moved[name] = []
        runs[name] = five_updates(cls, set_to_none, moved[name])
        state = runs[name][0].state_dict()["state"]
        assert state[0]["step"].item() == 5
        assert state[1]["step"].item() == branch_steps
    assert state_equal(runs["ours"][0], runs["torch"][0])
    for a, b in zip(runs["ours"][1:], runs["torch"][1:], strict=True):
        assert torch.equal(a, b)
    # with None, branch does not move on updates 2 and 4; with zeros it still moves (m remembers)
    expected = [True, not set_to_none, True, not set_to_none, True]
    assert moved["ours"] == moved["torch"] == expected


def test_first_update_uses_t_equal_one_and_none_creates_no_state():
    for cls in (optim.Adam, torch.optim.Adam):
        w = torch.tensor([1.0, -2.0], requires_grad=True)
        unused = torch.tensor([3.0], requires_grad=True)
        opt = cls([w, unused], lr=0.1)
        (w**2).sum().backward()
        opt.step()
        assert opt.state[w]["step"].item() == 1
        assert unused not in opt.state  # a None gradient: no state at all
        # m_hat = g, v_hat = g^2 at t = 1: a step of lr in each coordinate
        torch.testing.assert_close(w.detach(), torch.tensor([0.9, -1.9]), rtol=0, atol=1e-6)


# -- d2l's problems ---------------------------------------------------------------------------


def textbook_adam_2d(gradient, start, lr, steps, b1=BETA1, b2=BETA2, eps=EPS):
    """Adam as Kingma and Ba write it, in plain Python floats (the independent reference)."""
    x, m, v, path = list(start), [0.0, 0.0], [0.0, 0.0], [tuple(start)]
    for t in range(1, steps + 1):
        g = gradient(x)
        for i in range(2):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            x[i] -= lr * m_hat / (math.sqrt(v_hat) + eps)
        path.append(tuple(x))
    return np.array(path)


def test_adam_on_the_stretched_bowl():
    bowl = objectives.stretched_bowl()
    path = trajectories.run("adam", bowl, (-5.0, -2.0), 50, lr=0.4)
    reference = textbook_adam_2d(lambda x: (0.2 * x[0], 4 * x[1]), (-5.0, -2.0), 0.4, 50)
    np.testing.assert_allclose(path.points, reference, rtol=0, atol=1e-12)
    # the printed lines
    assert [f"{c:f}" for c in reference[20]] == ["0.996033", "-0.212751"]
    assert [f"{c:f}" for c in reference[50]] == ["-0.300855", "-0.109267"]
    # first step: lr in each coordinate
    np.testing.assert_allclose(reference[1], [-4.6, -1.6], atol=1e-8)
    # torch.optim.Adam with autograd: the same points
    torch_path = trajectories.run_torch(lambda p: torch.optim.Adam(p, lr=0.4), bowl,
                                        (-5.0, -2.0), 50)
    np.testing.assert_allclose(torch_path.points, reference, rtol=0, atol=1e-12)
    # RMSprop (alpha 0.9, lr 0.4) is below 1e-4 after 20 updates; Adam is near 0.19
    rmsprop = trajectories.run_torch(lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9), bowl,
                                     (-5.0, -2.0), 50)
    assert rmsprop.values[20] < 1e-4
    f20 = 0.1 * reference[20][0] ** 2 + 2 * reference[20][1] ** 2
    assert round(f20, 2) == 0.19



# -- the bowl with noisy gradients ----------------------------------------------------------------

NOISY_SEEDS = 100


def torch_noisy_bowl(make_optimizer, seed, steps=200, lr=0.4, sigma=1.0):
    """f(x_t) of a torch optimizer on 0.1 x1^2 + 2 x2^2 with N(0, sigma^2) gradient noise.

    The noise of run ``seed`` is drawn as trajectories.run draws it: one standard_normal(2) per
    update from ``np.random.default_rng(seed)``; the gradient itself is worked out by hand.
    """
    rng = np.random.default_rng(seed)
    x = torch.tensor([-5.0, -2.0], dtype=torch.float64, requires_grad=True)
    optimizer = make_optimizer([x], lr)
    values = [0.1 * 25 + 2 * 4]
    for _ in range(steps):
        with torch.no_grad():
            x1, x2 = x.tolist()
            noise = rng.standard_normal(2)
            x.grad = torch.tensor([0.2 * x1 + sigma * noise[0], 4 * x2 + sigma * noise[1]],
                                  dtype=torch.float64)
        optimizer.step()
        x1, x2 = x.tolist()
        values.append(0.1 * x1 * x1 + 2 * x2 * x2)
    return np.array(values)


@pytest.fixture(scope="module")
def noisy_settled():
    makers = {
        "Adam": lambda p, lr: torch.optim.Adam(p, lr=lr),
        "Adam, β₁ = 0": lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.0, 0.999)),
        "RMSprop (α = 0.9)": lambda p, lr: torch.optim.RMSprop(p, lr=lr, alpha=0.9),
    }
    return {name: np.array([torch_noisy_bowl(make, seed)[101:].mean()
                            for seed in range(NOISY_SEEDS)])
            for name, make in makers.items()}


def test_with_noise_adam_settles_lower_than_rmsprop(noisy_settled):
    adam, no_momentum, rmsprop = (noisy_settled[k] for k in
                                  ("Adam", "Adam, β₁ = 0", "RMSprop (α = 0.9)"))
    assert int(np.sum(adam < rmsprop)) == 99                        # "on 99 of the 100 runs"
    assert 0.28 < 1 - adam.mean() / rmsprop.mean() < 0.40           # "about a third lower"
    # most of the gain is the momentum: beta1 = 0 settles close to RMSprop
    assert rmsprop.mean() - no_momentum.mean() < 0.5 * (no_momentum.mean() - adam.mean())
    # the printed table (course_lib's run_many) shows these numbers
    table = printed_table("mean f, updates 101-200")
    for name, per_run in noisy_settled.items():
        half_width = 1.96 * per_run.std(ddof=1) / math.sqrt(NOISY_SEEDS)
        assert table[name][1:] == [f"{per_run.mean():.3f}", f"{half_width:.3f}"]
    assert printed_line("Adam below RMSprop on").startswith("Adam below RMSprop on 99 of 100")


def test_without_noise_rmsprop_keeps_bouncing_and_adam_settles():
    bowl = objectives.stretched_bowl()
    makers = {"Adam": lambda p: torch.optim.Adam(p, lr=0.4),
              "Adam, β₁ = 0": lambda p: torch.optim.Adam(p, lr=0.4, betas=(0.0, 0.999)),
              "RMSprop (α = 0.9)": lambda p: torch.optim.RMSprop(p, lr=0.4, alpha=0.9)}
    runs = {name: trajectories.run_torch(make, bowl, (-5.0, -2.0), 200)
            for name, make in makers.items()}
    settled = {name: run.values[101:].mean() for name, run in runs.items()}
    assert settled["Adam, β₁ = 0"] < settled["Adam"] < 1e-4           # settles, fastest without β1
    assert runs["Adam, β₁ = 0"].values[200] < 1e-70                    # the figure's panel title
    assert round(settled["RMSprop (α = 0.9)"], 2) == 0.08             # "bouncing at f ≈ 0.08"
    late_steps = np.abs(np.diff(runs["RMSprop (α = 0.9)"].points, axis=0))[100:].mean(axis=0)
    assert np.all((0.35 < late_steps) & (late_steps < 0.41))          # "about γ = 0.4 long"
    assert runs["RMSprop (α = 0.9)"].values[20] < 1e-4 < runs["Adam"].values[20]  # its early lead
    table = printed_table("mean f, updates 101-200")
    for name, value in settled.items():
        assert table[name][0] == f"{value:.6f}"


def test_a_leaky_average_keeps_a_fraction_of_the_noise():
    beta = BETA1
    by_series = math.sqrt(sum(((1 - beta) * beta**k) ** 2 for k in range(2000)))
    assert by_series == pytest.approx(math.sqrt((1 - beta) / (1 + beta)), rel=1e-12)
    assert round(by_series, 2) == 0.23
    noise = np.random.default_rng(0).standard_normal(200_000)
    m, kept = 0.0, []
    for g in noise:
        m = beta * m + (1 - beta) * g
        kept.append(m)
    assert np.std(kept[100:]) == pytest.approx(by_series, rel=0.02)


# -- the source article's Adam (article 000) ------------------------------------------------------


def article_adam_by_hand(gradient, start, lr, steps, eps=1e-8):
    """The article's formula in plain floats: PyTorch's Adam with sqrt(s_hat + eps) below."""
    x, m, v, path = list(start), [0.0, 0.0], [0.0, 0.0], [tuple(start)]
    for t in range(1, steps + 1):
        g = gradient(x)
        for i in range(2):
            m[i] = BETA1 * m[i] + (1 - BETA1) * g[i]
            v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] ** 2
            x[i] -= lr * (m[i] / (1 - BETA1**t)) / math.sqrt(v[i] / (1 - BETA2**t) + eps)
        path.append(tuple(x))
    return np.array(path)


SCALES = {"the bowl": 1.0, "the bowl × 1e-6": 1e-6}


@pytest.fixture(scope="module")
def article_runs():
    out = {}
    for name, scale in SCALES.items():
        problem = objectives.quadratic((0.2 * scale, 4 * scale))
        out[name] = {
            "article": a000.run(a000.adam, problem, (-5.0, -2.0), 50, buffers=2, pass_t=True,
                                lr=0.4),
            "hand": article_adam_by_hand(lambda x, s=scale: (0.2 * s * x[0], 4 * s * x[1]),
                                         (-5.0, -2.0), 0.4, 50),
            "torch": trajectories.run_torch(lambda p: torch.optim.Adam(p, lr=0.4), problem,
                                            (-5.0, -2.0), 50),
            "ours": trajectories.run_torch(lambda p: optim.Adam(p, lr=0.4), problem,
                                           (-5.0, -2.0), 50),
            "textbook": textbook_adam_2d(lambda x, s=scale: (0.2 * s * x[0], 4 * s * x[1]),
                                         (-5.0, -2.0), 0.4, 50),
        }
    return out


def test_the_article_runs_its_own_formula(article_runs):
    for runs in article_runs.values():
        np.testing.assert_allclose(runs["article"].points, runs["hand"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(runs["torch"].points, runs["textbook"], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(runs["ours"].points, runs["torch"].points)  # bit for bit


def test_where_the_article_parts_from_torch(article_runs):
    # the denominator factor sqrt(1 + (1e-4 / |g|)^2) for a steady gradient g
    def factor(g):
        return math.sqrt(g * g + 1e-8) / g

    assert round(factor(0.1) - 1, 7) == 5e-7
    assert round(factor(1e-4) - 1, 2) == 0.41
    assert round(factor(1e-6)) == 100
    assert math.sqrt(1e-8) == pytest.approx(1e-4)
    bowl, scaled = article_runs["the bowl"], article_runs["the bowl × 1e-6"]
    gap = np.abs(bowl["article"].points - bowl["torch"].points).max()
    assert 1e-9 < gap < 2.5e-8 and f"{gap:.1e}" == "1.7e-08"          # "agree to 2e-8"
    # scaled by 1e-6: torch's path barely moves, the article's crawls
    moved = np.abs(scaled["torch"].points - bowl["torch"].points).max()
    assert round(moved, 2) == 0.05
    article = scaled["article"].points
    steps_x1 = np.abs(np.diff(article[:, 0]))
    assert np.all(steps_x1 <= 0.4 * 1e-6 / 1e-4 + 1e-12)              # at most 0.004 per update
    assert round(article[-1, 0], 2) == -4.80
    assert np.abs(article - scaled["torch"].points).max() > 1
    # the printed table
    table = printed_table("problem ")
    assert table["the bowl × 1e-6"][3] == f"({article[-1, 0]:.4f}, {article[-1, 1]:.4f})"
    assert table["the bowl"][:2] == ["0.0e+00", f"{gap:.1e}"]


def test_regression_demo():
    from sklearn.linear_model import LinearRegression

    X, y = data.regression_data().as_tensors()

    def fit(make):
        model = training.linear_regression(X.shape[1], seed=0)
        return training.train(model, make(model.parameters()), X, y, epochs=2, batch_size=10,
                              record_every=200)

    ours = fit(lambda p: optim.Adam(p, lr=0.01))
    theirs = fit(lambda p: torch.optim.Adam(p, lr=0.01))
    assert ours.loss == theirs.loss
    fit_ls = LinearRegression().fit(X.numpy().astype(np.float64), y.numpy().astype(np.float64))
    residual = fit_ls.predict(X.numpy().astype(np.float64)) - y.numpy()
    best = float(np.mean(residual**2) / 2)
    assert round(best, 3) == 0.216
    d2l_eps = fit(lambda p: optim.Adam(p, lr=0.01, eps=1e-6))
    for history in (ours, d2l_eps, fit(lambda p: optim.SGD(p, lr=0.05)),
                    fit(lambda p: optim.Yogi(p, lr=0.01))):
        assert best <= history.final_loss < best + 0.003  # printed 0.217 and 0.218
    # d2l's from-scratch Adam (eps 1e-6, one global t) is optim.Adam(eps=1e-6), to rounding
    np.testing.assert_allclose(fit(D2LScratchAdam).loss, d2l_eps.loss, rtol=1e-5)


class D2LScratchAdam(torch.optim.Optimizer):
    """d2l's `adam(params, states, hyperparams)`, transcribed: eps = 1e-6, one t for all."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})
        self.t = 1

    @torch.no_grad()
    def step(self):
        beta1, beta2, eps = 0.9, 0.999, 1e-6
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["v"], state["s"] = torch.zeros_like(p), torch.zeros_like(p)
                v, s = state["v"], state["s"]
                v[:] = beta1 * v + (1 - beta1) * p.grad
                s[:] = beta2 * s + (1 - beta2) * torch.square(p.grad)
                v_bias_corr = v / (1 - beta1**self.t)
                s_bias_corr = s / (1 - beta2**self.t)
                p[:] -= group["lr"] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        self.t += 1


# -- AMSGrad ----------------------------------------------------------------------------------


def amsgrad_run(beta2, switch, updates):
    adam = rules.Adam(lr=0.01, betas=(0.9, beta2))
    ams = rules.Adam(lr=0.01, betas=(0.9, beta2), amsgrad=True)
    xa, xm = np.zeros(1), np.zeros(1)
    sa, sm = adam.init(xa), ams.init(xm)
    v, vmax, d_adam, d_ams = [], [], [], []
    for t in range(1, updates + 1):
        g = np.array([1.0 if t <= switch else 0.1])
        adam.step(xa, g, sa)
        ams.step(xm, g, sm)
        c = math.sqrt(1 - beta2**t)
        v.append(sa["exp_avg_sq"][0])
        vmax.append(sm["max_exp_avg_sq"][0])
        d_adam.append(math.sqrt(v[-1]) / c)
        d_ams.append(math.sqrt(vmax[-1]) / c)
    return np.array(v), np.array(vmax), np.array(d_adam), np.array(d_ams)


@pytest.mark.parametrize("beta2, switch, updates", [(0.99, 300, 600), (0.999, 100, 2100)])
def test_amsgrad_keeps_the_larger_denominator(beta2, switch, updates):
    v, vmax, d_adam, d_ams = amsgrad_run(beta2, switch, updates)
    assert np.all(np.diff(vmax) >= 0)                 # the stored maximum never decreases
    assert np.all(d_ams >= d_adam - 1e-15)            # never below Adam's denominator
    assert np.any(np.diff(v) < 0)                     # v does decrease in this case
    np.testing.assert_allclose(vmax, np.maximum.accumulate(v), rtol=1e-15)
    # closed forms: v at the switch is 1 - b2^s; afterwards it decays towards 0.01
    s = switch
    k = np.arange(1, updates - s + 1)
    v_after = beta2**k * (1 - beta2**s) + (1 - beta2**k) * 0.01
    np.testing.assert_allclose(v[s:], v_after, rtol=1e-10)
    np.testing.assert_allclose(vmax[s:], 1 - beta2**s, rtol=1e-12)


def test_amsgrad_printed_values():
    _, _, d_adam, d_ams = amsgrad_run(0.99, 300, 600)
    hand_adam = math.sqrt((0.99**300 * (1 - 0.99**300) + (1 - 0.99**300) * 0.01)
                          / (1 - 0.99**600))
    hand_ams = math.sqrt((1 - 0.99**300) / (1 - 0.99**600))
    assert d_adam[-1] == pytest.approx(hand_adam, rel=1e-10) and round(hand_adam, 2) == 0.24
    assert d_ams[-1] == pytest.approx(hand_ams, rel=1e-10) and hand_ams > 0.97
    assert 4 < 1 / hand_adam < 4.5                   # Adam's steps grow about four-fold
    _, vmax, d_adam, d_ams = amsgrad_run(0.999, 100, 2100)
    hand_torch = math.sqrt((1 - 0.999**100) / (1 - 0.999**2100))
    assert d_ams[-1] == pytest.approx(hand_torch, rel=1e-10) and round(hand_torch, 2) == 0.33
    assert round(math.sqrt(1 - 0.999**100), 2) == 0.31  # the paper's sqrt(vmax), constant
    assert np.all(np.diff(np.sqrt(vmax[99:])) == 0)
    assert np.all(np.diff(d_ams[99:]) < 0)           # torch's corrected denominator still falls
    assert round(d_adam[-1], 2) == 0.16


# -- AdamW against L2 -------------------------------------------------------------------------


def test_zero_gradient_l2_moves_by_lr_adamw_shrinks():
    lr, lam = 0.01, 0.1
    coupled, decoupled = rules.Adam(lr=lr, weight_decay=lam), rules.AdamW(lr=lr, weight_decay=lam)
    w0 = np.array([3.0, 0.3, 0.03])
    wc, wd = w0.copy(), w0.copy()
    sc, sd = coupled.init(wc), decoupled.init(wd)
    history = []
    for k in range(1, 6):
        before = wc.copy()
        coupled.step(wc, np.zeros(3), sc)
        decoupled.step(wd, np.zeros(3), sd)
        history.append(wc.copy())
        # AdamW: exactly the factor (1 - lr*lam) per update, nothing else
        np.testing.assert_allclose(wd, w0 * (1 - lr * lam) ** k, rtol=1e-14)
        if k == 1:  # m_hat / sqrt(v_hat) of lam*w is sign(w): a move of lr
            np.testing.assert_allclose(before - wc, lr * np.sign(w0), rtol=1e-4)
        if k <= 3:
            assert (before - wc)[0] == pytest.approx(lr, rel=1e-3)
    assert history[2][2] > 0 > history[3][2]  # the 0.03 weight crosses zero in update 4
    # torch.optim agrees on the L2 version
    w = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr, weight_decay=lam)
    for _ in range(5):
        w.grad = torch.zeros(3, dtype=torch.float64)
        opt.step()
    np.testing.assert_allclose(w.detach().numpy(), history[-1], rtol=1e-15)


def test_for_sgd_l2_and_decoupled_decay_are_the_same_update():
    lr, lam = 0.1, 0.01
    theta, g = np.array([2.0, -1.0]), np.array([0.3, 0.7])
    rule = rules.SGD(lr=lr, weight_decay=lam)
    x = theta.copy()
    rule.step(x, g, rule.init(x))
    np.testing.assert_allclose(x, theta * (1 - lr * lam) - lr * g, rtol=1e-15)


@pytest.fixture(scope="module")
def weight_decay_runs():
    torch.set_num_threads(1)
    X, y = data.regression_data(n_samples=500).as_tensors()
    y = y[:, None]
    out = {}
    for name, make in {"none": lambda p: optim.Adam(p, lr=0.01),
                       "l2": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.01),
                       "adamw": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.01)}.items():
        model = training.mlp([5, 32, 1], seed=0)
        opt = make(model.parameters())
        history = training.train(
            model, opt, X, y, epochs=20, batch_size=50, record_every=500,
            eval_fn=lambda m: {"hidden": m[0].weight.norm().item(),
                               "output": m[2].weight.norm().item()})
        out[name] = (model, opt, history)
    return out


def test_same_lambda_l2_decays_far_more_than_adamw(weight_decay_runs):
    norms = {k: (h.metrics["hidden"][-1], h.metrics["output"][-1])
             for k, (_, _, h) in weight_decay_runs.items()}
    assert norms["l2"][0] < 0.5 * norms["none"][0]                    # less than half
    assert abs(norms["adamw"][0] / norms["none"][0] - 1) < 0.03       # close to no decay
    assert abs(norms["adamw"][1] / norms["none"][1] - 1) < 0.03
    assert norms["l2"][1] > norms["none"][1]                          # output layer grows
    # AdamW's decay is exactly (1 - lr*lam) per update on top of Adam's step (200 updates)
    assert weight_decay_runs["adamw"][1].state[weight_decay_runs["adamw"][0][0].weight][
        "step"].item() == 200


def test_effective_decay_rates_of_l2_inside_adam(weight_decay_runs):
    model, opt, _ = weight_decay_runs["l2"]
    s = opt.state[model[0].weight]
    v_hat = s["exp_avg_sq"] / (1 - BETA2 ** s["step"].item())
    rate = (0.01 * 0.01 / (v_hat.sqrt() + EPS)).flatten()
    assert 60 < rate.median().item() / 1e-4 < 100     # "about 80 times larger"
    assert rate.max().item() / rate.min().item() > 10  # "more than a factor of 10"


# -- RAdam, NAdam, Yogi -----------------------------------------------------------------------


def rho(t, beta2=BETA2):
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (1 - beta2**t)


def test_radam_rho_and_first_rectified_step():
    assert rho(1) == pytest.approx(1.0, abs=1e-9)     # exactly 1 by algebra
    assert 2 / (1 - BETA2) - 1 == pytest.approx(1999)
    values = [rho(t) for t in range(1, 11)]
    assert all(0.99 < b - a < 1 for a, b in zip(values, values[1:], strict=False))
    assert values[4] < 5 < values[5] and round(values[4], 3) == 4.996
    # course_lib's rule and torch.optim.RAdam: g = 2, lr = 0.1
    rule = rules.RAdam(lr=0.1)
    x = np.zeros(1)
    state = rule.init(x)
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RAdam([w], lr=0.1)
    rho_inf = 1999.0
    for t in range(1, 11):
        before = x.copy()
        rule.step(x, np.array([2.0]), state)
        w.grad = torch.full((1,), 2.0, dtype=torch.float64)
        opt.step()
        step = (before - x)[0] / 0.1
        if t <= 5:
            assert step == pytest.approx(2.0, rel=1e-12)  # plain momentum: gamma * m_hat
        else:
            r = rho(t)
            rect = math.sqrt((r - 4) * (r - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * r))
            assert step == pytest.approx(rect, rel=1e-6)
            if t == 6:
                assert round(rect, 4) == 0.0258
        assert w.item() == pytest.approx(x[0], rel=1e-12)


def test_nadam_momentum_schedule():
    def mu(t, psi=0.004):
        return BETA1 * (1 - 0.5 * 0.96 ** (t * psi))

    assert round(mu(1), 3) == 0.450
    assert round(mu(1000), 3) == 0.518
    assert round(mu(10000), 3) == 0.812
    # the formula is the one course_lib and torch use: their first step agrees with it
    lr, g = 0.1, 2.0
    mu1, mu2 = mu(1), mu(2)
    hand = lr * (1 - mu1) / (1 - mu1) * 1 + lr * mu2 / (1 - mu1 * mu2) * (1 - BETA1)
    rule = rules.NAdam(lr=lr)
    x = np.array([1.0])
    rule.step(x, np.array([g]), rule.init(x))
    assert 1 - x[0] == pytest.approx(hand, rel=1e-6)


def yogi_and_adam_v(v0, g, updates=1000):
    out = {}
    for rule in (rules.Adam(), rules.Yogi()):
        x = np.zeros(1)
        s = rule.init(x)
        s["exp_avg_sq"][:] = v0
        values = []
        for _ in range(updates):
            rule.step(x, np.array([g]), s)
            values.append(s["exp_avg_sq"][0])
        out[type(rule).__name__] = np.array(values)
    return out


def test_yogi_additive_against_adam_multiplicative():
    k = np.arange(1, 1001)
    up = yogi_and_adam_v(1e-4, 1.0)          # g^2 >> v
    np.testing.assert_allclose(up["Adam"], BETA2**k * 1e-4 + (1 - BETA2**k), rtol=1e-10)
    np.testing.assert_allclose(up["Yogi"], 1e-4 + k * (1 - BETA2), rtol=1e-10)
    assert up["Adam"][0] == pytest.approx(up["Yogi"][0], rel=1e-3)  # the first step: both add
    assert round(up["Adam"][-1], 2) == 0.63                          # 63% of the way
    assert up["Yogi"][-1] == pytest.approx(1.0, abs=2e-4)            # reaches g^2
    down = yogi_and_adam_v(1.0, 0.01)        # g^2 << v
    np.testing.assert_allclose(down["Adam"], BETA2**k + (1 - BETA2**k) * 1e-4, rtol=1e-10)
    np.testing.assert_allclose(down["Yogi"], 1 - k * (1 - BETA2) * 1e-4, rtol=1e-10)
    assert round(BETA2**1000, 2) == 0.37 and round(1 / math.sqrt(down["Adam"][-1]), 1) == 1.6
    assert 1 - down["Yogi"][-1] == pytest.approx(1e-4, rel=1e-6)     # 1e-7 per update


def test_family_on_the_bowl():
    bowl = objectives.stretched_bowl()
    runs = {name: trajectories.run(name, bowl, (-5.0, -2.0), 50, lr=0.4, **extra)
            for name, extra in [("adam", {}), ("nadam", {}), ("radam", {}), ("adamax", {}),
                                ("yogi", {})]}
    runs["amsgrad"] = trajectories.run("adam", bowl, (-5.0, -2.0), 50, lr=0.4, amsgrad=True)
    final = {name: r.values[50] for name, r in runs.items()}
    assert final["nadam"] < final["adam"] and final["adamax"] < final["adam"]
    assert max(final, key=final.get) == "radam"
    # RAdam's first update is gamma * g: x2 from -2 to -2 - 0.4 * (4 * -2) = 1.2
    np.testing.assert_allclose(runs["radam"].points[1], [-5 + 0.4 * 1.0, 1.2], atol=1e-12)
    # AMSGrad and Yogi stay close to Adam
    # independent references: torch's Adam and AMSGrad, d2l's Yogi formula (validation.D2LYogi)
    start = (-5.0, -2.0)
    torch_adam = trajectories.run_torch(lambda p: torch.optim.Adam(p, lr=0.4), bowl, start, 50)
    references = {
        "amsgrad": trajectories.run_torch(lambda p: torch.optim.Adam(p, lr=0.4, amsgrad=True),
                                          bowl, start, 50),
        "yogi": trajectories.run_torch(lambda p: validation.D2LYogi(p, lr=0.4), bowl, start, 50),
    }
    gaps = {name: np.abs(ref.values - torch_adam.values).max() for name, ref in references.items()}
    for name, ref in references.items():
        np.testing.assert_allclose(runs[name].values, ref.values, rtol=1e-9, atol=1e-12)
    assert gaps["amsgrad"] < 0.0003 and gaps["yogi"] < 0.01     # "at most 0.0002 and 0.009"
    assert round(gaps["amsgrad"], 4) == 0.0002 and round(gaps["yogi"], 3) == 0.009


# -- Keras ------------------------------------------------------------------------------------


def test_keras_adam_is_torch_adam_with_eps_t():
    for scale in (1e-6, 1.0):
        gradients = scale * np.random.default_rng(0).standard_normal((10, 3))
        keras, adam = rules.KerasAdam(lr=0.1), rules.Adam(lr=0.1, eps=1e-7)
        xk, xa, xp = np.ones(3), np.ones(3), np.ones(3)
        sk, sa, sp = keras.init(xk), adam.init(xa), adam.init(xp)
        for t, g in enumerate(gradients, start=1):
            keras.step(xk, g, sk)
            adam.step(xa, g, sa, {**adam.hyperparams, "eps": 1e-7 / math.sqrt(1 - BETA2**t)})
            adam.step(xp, g, sp)
            np.testing.assert_allclose(xk, xa, rtol=1e-13)
            if t == 1 and scale == 1e-6:
                ratio = (1 - xp) / (1 - xk)
                assert np.all((ratio > 5) & (ratio < 15))  # "5 to 15 times smaller"
    assert round(1 / math.sqrt(1 - BETA2), 1) == 31.6       # "about 32 times larger at t = 1"


def test_keras_first_step_by_hand():
    g, lr = 1e-6, 0.1
    keras = rules.KerasAdam(lr=lr)
    x = np.array([0.0])
    keras.step(x, np.array([g]), keras.init(x))
    # alpha_1 = lr sqrt(1 - b2) / (1 - b1); m = 0.1 g; sqrt(v) = sqrt(0.001) g
    alpha = lr * math.sqrt(1 - BETA2) / (1 - BETA1)
    assert -x[0] == pytest.approx(alpha * 0.1 * g / (math.sqrt(0.001) * g + 1e-7), rel=1e-12)


def dlfs_adam(start, lr, steps, b1=0.9, b2=0.999):
    """Deep Learning from Scratch's Adam on x^2/20 + y^2, transcribed in plain Python."""
    x, m, v = list(start), [0.0, 0.0], [0.0, 0.0]
    for it in range(1, steps + 1):
        grads = [x[0] / 10, 2 * x[1]]
        lr_t = lr * math.sqrt(1 - b2**it) / (1 - b1**it)
        for i in range(2):
            m[i] += (1 - b1) * (grads[i] - m[i])
            v[i] += (1 - b2) * (grads[i] ** 2 - v[i])
            x[i] -= lr_t * m[i] / (math.sqrt(v[i]) + 1e-7)
    return x


def test_deep_learning_from_scratch_demo():
    f = objectives.dlfs_bowl()
    keras_path = trajectories.run(rules.KerasAdam(lr=0.3), f, (-7.0, 2.0), 30)
    torch_path = trajectories.run(rules.Adam(lr=0.3), f, (-7.0, 2.0), 30)
    np.testing.assert_allclose(keras_path.final, dlfs_adam((-7.0, 2.0), 0.3, 30), rtol=1e-12)
    assert [f"{c:f}" for c in keras_path.final] == ["0.136007", "0.318245"]
    assert [f"{c:f}" for c in torch_path.final] == ["0.136015", "0.318245"]
    gap = np.abs(keras_path.points - torch_path.points).max()
    assert 1e-6 < gap < 1e-4                                   # the fifth decimal


# -- course_lib against torch.optim -----------------------------------------------------------

SETTINGS = [("Adam", {}), ("Adam", {"amsgrad": True, "weight_decay": 0.01}), ("AdamW", {}),
            ("NAdam", {}), ("NAdam", {"decoupled_weight_decay": True, "weight_decay": 0.01}),
            ("RAdam", {}), ("Adamax", {"weight_decay": 0.01})]


def train_tiny(make, dtype=torch.float32):
    inputs = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
    targets = torch.sin(inputs[:, :1]) + inputs[:, 1:2] * inputs[:, 2:3]
    model = training.mlp([4, 8, 1], seed=0, activation=torch.nn.Tanh, dtype=dtype)
    optimizer = make(model.parameters())
    for k in range(1, 31):
        optimizer.zero_grad()
        ((model(inputs.to(dtype)) - targets.to(dtype)) ** 2).mean().backward()
        if 10 <= k <= 12:
            model[2].weight.grad = model[2].bias.grad = None
        optimizer.step()
    return model, optimizer


@pytest.mark.parametrize("name, extra", SETTINGS, ids=[f"{n}-{e}" for n, e in SETTINGS])
def test_bit_for_bit_with_torch(name, extra):
    ours_model, ours = train_tiny(lambda p: optim.get(name, p, lr=0.01, **extra))
    theirs_model, theirs = train_tiny(lambda p: getattr(torch.optim, name)(p, lr=0.01, **extra))
    for a, b in zip(ours_model.parameters(), theirs_model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert state_equal(ours, theirs)
    # the output layer skipped 3 updates
    assert ours.state[ours_model[2].weight]["step"].item() == 27


def test_yogi_matches_d2l_formula():
    ours, _ = train_tiny(lambda p: optim.Yogi(p, lr=0.01), dtype=torch.float64)
    d2l, _ = train_tiny(lambda p: validation.D2LYogi(p, lr=0.01), dtype=torch.float64)
    gap = max((a - b).abs().max().item()
              for a, b in zip(ours.parameters(), d2l.parameters(), strict=True))
    assert gap < 1e-12
