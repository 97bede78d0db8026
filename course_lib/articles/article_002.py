"""Article 002 (Keras optimizers): gradient descent by hand on three points, transcribed verbatim.

The article fits y = a·x + b to the points (0, 1), (1, 2), (2, 3) by gradient descent on
L = ½ Σ (a x + b − y)², from a = b = 2 with alpha = 0.1, and stops with the loop
``while (a - 1) > 0.1 or (b - 1) > 0.1``. It prints seven rows, ending ``0.9284 1.0997``.

:data:`SOURCE` is the article's script, character for character, except for its indentation:
the blog's rendering dropped every leading space, and the only reading that runs (and prints
the article's table) is the one restored here. :func:`run` executes that source as it stands,
in a fresh namespace, and returns the rows it prints.

Two properties of the stopping rule matter for the lesson:

* it is *sign-blind*: ``(a - 1) > 0.1`` is already False for every a < 1.1, however far below
  1 a is, so once a has dropped below 1.1 (after step 2) only b keeps the loop going;
* with ``alpha = 0.2`` the first step lands on (0.4, 0.8), where both tests are False: the loop
  stops after one step, far from the answer (1, 1).

>>> rows = run(echo=False)
>>> len(rows), rows[-1]
(7, (0.9284, 1.0997))
>>> run(alpha=0.2, echo=False)
[(0.4, 0.8)]
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = ["SOURCE", "run"]

#: The article's script (indentation restored).
SOURCE = """\
global a,b,alpha
a = 2;b = 2;alpha = 0.1;train = [[0,1],[1,2],[2,3]]
def update():
    global a,b,alpha
    delta_a = 0;delta_b = 0
    for tmp in train:
        x = tmp[0];y = tmp[1]
        delta_a += x * (a * x + b - y);delta_b += (a * x + b - y)
    a = a - alpha * delta_a;b = b - alpha * delta_b
    return
while (a - 1) > 0.1 or (b - 1) > 0.1:
    update()
    print(round(a,4),round(b,4))
"""


class _TooManyRows(Exception):
    pass


def run(alpha: float = 0.1, *, max_rows: int = 1000, echo: bool = True
        ) -> list[tuple[float, float]]:
    """Execute the article's script and return the rows it prints, ``(round(a,4), round(b,4))``.

    Args:
        alpha: the learning rate written into the script's ``alpha = 0.1`` (the only change).
        max_rows: stop after this many rows (a guard for learning rates whose loop never ends;
            the article's own settings print 7).
        echo: also print the rows, as the script does.

    Raises:
        RuntimeError: the loop printed more than ``max_rows`` rows.
    """
    source = SOURCE if alpha == 0.1 else SOURCE.replace("alpha = 0.1", f"alpha = {alpha!r}", 1)
    rows: list[tuple[float, float]] = []

    def recording_print(*values: Any, **kwargs: Any) -> None:
        rows.append(tuple(values))
        if echo:
            builtins.print(*values, **kwargs)
        if len(rows) >= max_rows:
            raise _TooManyRows

    namespace: dict[str, Any] = {"print": recording_print}
    try:
        exec(compile(source, "article_002", "exec"), namespace)  # noqa: S102 - the article's code
    except _TooManyRows:
        raise RuntimeError(
            f"the article's loop printed {max_rows} rows without stopping (alpha={alpha})"
        ) from None
    return rows
