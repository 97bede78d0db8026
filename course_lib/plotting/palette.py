"""One colour per optimizer across the whole course, and styles that keep overlapping paths apart.

:data:`OPTIMIZER_COLORS` gives every optimizer of the course its colour: the SGD family in
blues, the adaptive methods (Adagrad, RMSprop, Adadelta) in green, purple and brown, the Adam
family in warm colours, Newton in grey. Every helper colours a series by its legend label
(:func:`colors_for`):

* a label naming an optimizer no other label in the figure names gets that optimizer's colour
  ("SGD, lr = 0.95", "Adam", "torch.optim.Adagrad", "momentum 0.9" ...);
* several labels naming the same optimizer (a learning-rate sweep of SGD) get shades of its
  colour, dark to light, so the sweep still reads as "SGD";
* labels naming no optimizer get matplotlib's default cycle.

:func:`path_style` gives the k-th series of a figure its own dash pattern and marker, so paths
and curves that lie on top of each other stay distinguishable.

>>> optimizer_key("SGD, lr = 0.95"), optimizer_key("SGD, momentum 0.9"), optimizer_key("lr 0.4")
('sgd', 'momentum', None)
>>> colors = colors_for(["Adam, lr = 0.3", "AdaGrad, lr = 1.5"])
>>> colors["Adam, lr = 0.3"] == OPTIMIZER_COLORS["adam"]
True
>>> colors["AdaGrad, lr = 1.5"] == OPTIMIZER_COLORS["adagrad"]
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.colors import to_hex, to_rgb

__all__ = [
    "OPTIMIZER_COLORS",
    "colors_for",
    "optimizer_color",
    "optimizer_key",
    "path_style",
    "shades",
]

#: The colour of each optimizer, keyed by course_lib's rule name (plus "momentum" and
#: "nesterov" for SGD with those options).
OPTIMIZER_COLORS: dict[str, str] = {
    "sgd": "#1f77b4",        # blue
    "momentum": "#17becf",   # cyan
    "nesterov": "#0b3c8c",   # navy
    "adagrad": "#2ca02c",    # green
    "rmsprop": "#9467bd",    # purple
    "adadelta": "#8c564b",   # brown
    "adam": "#ff7f0e",       # orange
    "adamw": "#d62728",      # red
    "amsgrad": "#e377c2",    # pink
    "adamax": "#bcbd22",     # olive
    "nadam": "#c49c00",      # mustard
    "radam": "#7b1f3a",      # maroon
    "yogi": "#4b4fa6",       # indigo
    "newton": "#7f7f7f",     # grey
    "ftrl": "#008080",       # teal
}

#: Other spellings of the same optimizers (lower case, without separators).
_ALIASES = {
    "gd": "sgd", "gradientdescent": "sgd", "kerassgd": "sgd", "steepestdescent": "sgd",
    "heavyball": "momentum", "polyak": "momentum", "nag": "nesterov",
    "d2ladagrad": "adagrad", "d2lrmsprop": "rmsprop", "kerasadam": "adam",
    "diagonalnewton": "newton", "newtons": "newton",
}
#: Prefixes that name where an optimizer comes from, not which one it is.
_SOURCES = ("torch.optim.", "course_lib.optim.", "course_lib.", "torch.", "keras.", "d2l.",
            "the book's ", "book ", "d2l's ", "d2l ", "keras ", "torch ", "best ", "plain ")
_WORD = re.compile(r"[a-z0-9]+")
#: Colours for labels that name no optimizer: matplotlib's default cycle.
_CYCLE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
#: Dash patterns and markers, one pair per series, cycled.
_DASHES = ("-", "--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _word(text: str) -> str | None:
    return _ALIASES.get(text, text if text in OPTIMIZER_COLORS else None)


def optimizer_key(label: str) -> str | None:
    """The optimizer a legend label names (a key of :data:`OPTIMIZER_COLORS`), or None.

    The label's first word decides ("Adam, lr = 0.3" is Adam, "AdamW" is AdamW); SGD with
    "nesterov" or "momentum" in its label is Nesterov or momentum. Prefixes that say where an
    optimizer comes from ("torch.optim.", "course_lib.optim.", "the book's", "d2l's") are
    skipped, and "gradient descent", "GD" and "heavy ball" are understood.
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be a string, got {label!r}")
    text = label.strip().lower().replace("$", "")
    changed = True
    while changed:
        changed = False
        for prefix in _SOURCES:
            if text.startswith(prefix):
                text, changed = text[len(prefix):].lstrip(), True
    words = _WORD.findall(text.replace("-", " ").replace("_", ""))
    if not words:
        return None
    key = _word(words[0])
    if key is None and len(words) > 1:
        key = _word(words[0] + words[1])  # "gradient descent", "heavy ball"
    if key == "sgd":
        if "nesterov" in words:
            return "nesterov"
        if "momentum" in words:
            return "momentum"
    if key is None and words[0] == "momentum":
        return "momentum"
    return key


def optimizer_color(name: str) -> str:
    """The colour of an optimizer, by rule name or by any label :func:`optimizer_key` reads."""
    key = optimizer_key(name)
    if key is None:
        raise ValueError(
            f"{name!r} names no optimizer of the course; known: {', '.join(OPTIMIZER_COLORS)}")
    return OPTIMIZER_COLORS[key]


def shades(color: Any, n: int) -> list[str]:
    """``n`` shades of ``color``, from darker to lighter (a sweep of one optimizer)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if n == 1:
        return [to_hex(color)]
    rgb = np.array(to_rgb(color))
    out = []
    for t in np.linspace(-0.45, 0.5, n):
        mixed = rgb * (1 + t) if t < 0 else rgb + (1 - rgb) * t
        out.append(to_hex(np.clip(mixed, 0, 1)))
    return out


def colors_for(labels: Iterable[str]) -> dict[str, str]:
    """A colour for every label of one figure (see the module's rules)."""
    labels = list(dict.fromkeys(labels))
    keys = {label: optimizer_key(label) for label in labels}
    groups: dict[str, list[str]] = {}
    for label, key in keys.items():
        if key is not None:
            groups.setdefault(key, []).append(label)
    colors = {}
    for key, members in groups.items():
        for label, shade in zip(members, shades(OPTIMIZER_COLORS[key], len(members)),
                                strict=True):
            colors[label] = shade
    used = set(colors.values())
    free = [c for c in _CYCLE if c not in used] or list(_CYCLE)
    others = [label for label in labels if keys[label] is None]
    for i, label in enumerate(others):
        colors[label] = free[i % len(free)]
    return {label: colors[label] for label in labels}


def path_style(index: int) -> dict[str, Any]:
    """Line style and marker of the ``index``-th series of a figure (0 is solid with circles)."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"index must be an integer >= 0, got {index!r}")
    return {"linestyle": _DASHES[index % len(_DASHES)], "marker": _MARKERS[index % len(_MARKERS)]}
