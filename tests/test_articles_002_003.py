"""Articles 002 and 003: the transcribed code prints the articles' own numbers, and course_lib's
interfaces reproduce it.

Expected values come from the articles' published output (002's table) and from exact
arithmetic written out here (fractions), never from our own output.
"""

from fractions import Fraction

import numpy as np
import pytest

from course_lib import arrays, rules
from course_lib.articles import article_002, article_003

#: Article 002's printed table, as published.
ARTICLE_002_TABLE = [(1.2, 1.4), (0.98, 1.22), (0.924, 1.16), (0.914, 1.1348),
                     (0.9166, 1.1202), (0.9222, 1.1091), (0.9284, 1.0997)]
POINTS = [(0, 1), (1, 2), (2, 3)]


def exact_loop(alpha):
    """The article's loop in exact rational arithmetic: every (a, b) it reaches."""
    a, b, alpha = Fraction(2), Fraction(2), Fraction(alpha)
    rows = []
    while (a - 1) > Fraction(1, 10) or (b - 1) > Fraction(1, 10):
        da = sum(x * (a * x + b - y) for x, y in POINTS)
        db = sum(a * x + b - y for x, y in POINTS)
        a, b = a - alpha * da, b - alpha * db
        rows.append((a, b))
        assert len(rows) < 1000
    return rows


def test_article_002_prints_its_seven_rows(capsys):
    rows = article_002.run()
    assert rows == ARTICLE_002_TABLE
    printed = capsys.readouterr().out.splitlines()
    assert printed == [f"{a} {b}" for a, b in ARTICLE_002_TABLE]
    assert printed[-1] == "0.9284 1.0997"


def test_the_seven_rows_by_exact_arithmetic():
    exact = exact_loop("0.1")
    assert len(exact) == 7
    assert [(round(float(a), 4), round(float(b), 4)) for a, b in exact] == ARTICLE_002_TABLE
    # the first step by hand: residuals 1, 2, 3; dL/da = 8, dL/db = 6
    assert exact[0] == (Fraction(2) - Fraction(8, 10), Fraction(2) - Fraction(6, 10))


def test_the_stopping_rule_is_sign_blind():
    exact = exact_loop("0.1")
    # from step 2 on, a < 1.1, so (a - 1) > 0.1 is False: only b keeps the loop going
    assert all(a - 1 <= Fraction(1, 10) for a, _ in exact[1:])
    assert all(b - 1 > Fraction(1, 10) for _, b in exact[1:-1])
    assert exact[-1][1] - 1 < Fraction(1, 10)
    # a is 0.07 below 1 when it stops, further than the 0.1 the test allows above
    assert abs(exact[-1][0] - 1) > Fraction(7, 100)


def test_alpha_0_2_stops_after_one_step():
    # a = 2 - 0.2 * 8 = 0.4, b = 2 - 0.2 * 6 = 0.8: both below 1.1, the loop ends
    exact = exact_loop("0.2")
    assert exact == [(Fraction(2, 5), Fraction(4, 5))]
    assert article_002.run(alpha=0.2, echo=False) == [(0.4, 0.8)]


def test_article_002_guard_against_an_endless_loop():
    # a tiny learning rate takes thousands of steps to bring b below 1.1
    with pytest.raises(RuntimeError, match="without stopping"):
        article_002.run(alpha=1e-4, max_rows=50, echo=False)


def test_article_003_classes_are_the_articles():
    source = "self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]"
    import inspect

    assert source in inspect.getsource(article_003.AdamOptimizer.update)
    assert "np.sqrt(v_hat) + self.epsilon" in inspect.getsource(article_003.AdamOptimizer)


def test_course_lib_adam_optimizer_reproduces_the_articles_run():
    theirs = article_003.train(seed=0)
    ours = article_003.train(seed=0, optimizer_class=arrays.AdamOptimizer)
    np.testing.assert_allclose(ours.path, theirs.path, rtol=1e-13, atol=1e-15)
    assert isinstance(ours.optimizer.rule, rules.Adam)
    assert ours.optimizer.rule.hyperparams["lr"] == 0.01


def test_the_articles_setup_ends_far_from_the_line():
    run = article_003.train(seed=0)
    steps = np.abs(np.diff(run.path, axis=0))
    # Adam's step is at most about lr per coordinate (here exactly lr while signs persist)
    assert steps.max() <= 0.01 * (1 + 1e-6)
    w, b = run.path[-1]
    assert abs(b - 4) > 2.9 and abs(w - 3) > 2  # 100 steps of 0.01 cannot cover ~4
    assert b <= 100 * 0.01
    assert run.losses[-1] > 1000 * 0.01  # noise variance 0.01: the loss is far from its floor


def least_squares(run):
    design = np.column_stack([run.X[:, 0], np.ones(len(run.X))])
    return np.linalg.lstsq(design, run.y[:, 0], rcond=None)[0]


def test_a_learning_rate_sized_to_the_distance_fixes_it():
    fixed = article_003.train(seed=0, optimizer_class=arrays.AdamOptimizer, learning_rate=0.1,
                              epochs=1000)
    np.testing.assert_allclose(fixed.path[-1], least_squares(fixed), rtol=0, atol=1e-6)
    assert abs(fixed.path[-1][0] - 3) < 0.05 and abs(fixed.path[-1][1] - 4) < 0.05
    assert fixed.losses[-1] == pytest.approx(0.01, rel=0.05)  # the noise floor, sigma = 0.1
