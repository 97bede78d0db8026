"""The static pictures of the interactive explorers, and the colours they share with them.

Each explorer of :mod:`course_lib.widgets` stores, with its live view, a PNG of its state: the
figure of one function here, drawn from the same frame (:mod:`course_lib.explorations`) with
the course's helpers (contours, eigencomponents, rate maps, schedules). A notebook that has
not been run, a slide deck and the website show it.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import contourpy
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from course_lib.plotting.analysis import COMPONENT_COLORS, eigen_components
from course_lib.plotting.base import (
    LABEL_SIZE,
    LEGEND_SIZE,
    LINE_WIDTH,
    TICK_SIZE,
    TITLE_SIZE,
    _finish,
    legend,
)
from course_lib.plotting.charts import rate_heatmap
from course_lib.plotting.contours import contour_2d, contour_levels
from course_lib.plotting.lines import loss_curves, schedule_plot
from course_lib.plotting.palette import OPTIMIZER_COLORS

__all__ = [
    "REGION_NAMES",
    "adaptive_figure",
    "conditioning_figure",
    "contour_lines",
    "level_colors",
    "minibatch_figure",
    "momentum_figure",
    "png",
    "png_size",
    "rate_colors",
    "schedule_figure",
]

#: The resolution of the stored pictures (dots per inch).
DPI = 80
#: Grid points per side of the contour lines of an explorer's path panel.
CONTOUR_GRID = 120
#: The grey of settings that diverge (as :func:`rate_heatmap` draws them).
DIVERGED_GREY = to_hex("lightgray")
#: What the regions of the (η, β) map of :func:`course_lib.explorations.momentum_map` are
#: called, by their code in ``MomentumMap.regions``.
REGION_NAMES = {0: "diverges", 1: "complex roots: ρ = √β", 2: "real roots (λ_min)",
                3: "real roots (λ_max)", 4: "real roots"}


def png(figure: Figure, *, dpi: float | None = DPI, tight: bool = False) -> bytes:
    """The figure as PNG bytes; the figure is closed (it will not show again at cell end).

    ``dpi=None, tight=True`` stores it as the notebook's inline backend does (the figure's own
    dpi, a tight box)."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels of a PNG, read from its header."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def level_colors(n: int) -> list[str]:
    """``n`` colours of the contour levels, low to high (matplotlib's viridis, as the
    contour plots use)."""
    return [to_hex(c) for c in colormaps["viridis"](np.linspace(0, 1, max(n, 1)))]


def rate_colors(n: int = 9) -> list[str]:
    """The colours of a rate from low (good) to 1, as :func:`rate_heatmap` draws them."""
    return [to_hex(c) for c in colormaps["viridis_r"](np.linspace(0, 1, n))]


def contour_lines(objective: Any, window: Any, levels: Any = 20
                  ) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """The contour lines of a 2-D objective over ``window``: (level, x, y) per level, each line
    a run of points with NaN between its pieces (bqplot leaves a gap at a NaN)."""
    (x_low, x_high), (y_low, y_high) = window
    x1, x2 = np.meshgrid(np.linspace(x_low, x_high, CONTOUR_GRID),
                         np.linspace(y_low, y_high, CONTOUR_GRID))
    with np.errstate(over="ignore", invalid="ignore"):
        z = np.asarray(objective.value_grid(x1, x2), dtype=float)
    if isinstance(levels, int):
        values = contour_levels(objective, window, levels)
    else:
        values = np.asarray(levels, dtype=float)
    generator = contourpy.contour_generator(x1, x2, z, line_type="SeparateCode")
    out = []
    for level in values:
        pieces = generator.lines(float(level))[0]
        if not pieces:
            continue
        joined = np.concatenate([np.vstack([p, [np.nan, np.nan]]) for p in pieces])
        out.append((float(level), joined[:, 0], joined[:, 1]))
    return out


def _figure(panels: Mapping[str, Any], title: str,
            panel_size: tuple[float, float] = (4.5, 4.6)) -> Figure:
    """One row of panels under one title, each drawn by ``draw(ax)`` with its legend below
    its data, and titled by its key."""
    width, height = panel_size
    figure, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height),
                                layout="constrained", squeeze=False)
    for (key, draw), ax in zip(panels.items(), axes[0], strict=True):
        draw(ax)
        ax.set_title(key, fontsize=LABEL_SIZE + 1)
        _legend_below(ax)
    figure.suptitle(title, fontsize=TITLE_SIZE + 1)
    return figure


def _legend_below(ax: Axes) -> None:
    """Move the legend of ``ax`` below it, in at most two columns (keeping every entry, also
    the proxies a helper added)."""
    old = ax.get_legend()
    if old is None:
        return
    handles, labels = old.legend_handles, [t.get_text() for t in old.get_texts()]
    old.remove()
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              borderaxespad=4.4, fontsize=LEGEND_SIZE - 1, ncols=1 if len(labels) <= 3 else 2,
              handlelength=1.8, columnspacing=1.0)


def _note(ax: Axes, text: str) -> None:
    ax.text(0.5, -0.32, text, transform=ax.transAxes, ha="center", va="top",
            fontsize=TICK_SIZE, color="#b00000")


#: How far the eigencomponents of a diverging run are drawn: until one is this many times
#: the largest at the start.
GROWTH_SHOWN = 1e6


def until_grown(errors: np.ndarray, growth: float = GROWTH_SHOWN) -> np.ndarray:
    """Rows 0..k of ``errors`` (steps × components), k the first step at which a component
    is non-finite or ``growth`` times the largest component at step 0; every row if none is.

    A diverging run's components are drawn until then, so that the unstable one rises as a
    straight line on the log axis (by ρ per step) instead of stopping where the path left the
    window.

    >>> until_grown(np.array([[1.0, 1.0], [0.5, 30.0], [0.2, 2e6], [0.1, 4e7]])).shape
    (3, 2)
    """
    values = np.asarray(errors, dtype=float)
    with np.errstate(invalid="ignore"):
        beyond = ~np.isfinite(values).all(axis=1) | (values.max(axis=1) > growth * values[0].max())
    hits = np.flatnonzero(beyond)
    return values if hits.size == 0 else values[:hits[0] + 1]


def _components(ax: Axes, errors: np.ndarray, eigenvalues: Sequence[float],
                predicted: np.ndarray | None) -> None:
    shown = until_grown(errors)
    eigen_components(shown, eigenvalues=eigenvalues, ax=ax, xlabel="step k",
                     ylabel="|error| along each eigenvector", legend="below")
    if predicted is not None:
        drawn = predicted[:len(shown)]
        steps = np.arange(len(drawn))
        for i in range(drawn.shape[1]):
            ok = drawn[:, i] > 0
            ax.plot(steps[ok], drawn[ok, i], "--", color="black", lw=1.2,
                    label="without noise" if i == 0 else None)
        legend(ax, "below")
    ax.set_xlim(0, len(errors) - 1)


# -- chapter 03 ----------------------------------------------------------------------------------


def conditioning_figure(frame: Any, objective: Any, lrs: np.ndarray, rates: np.ndarray,
                        step: int | None) -> Figure:
    """Path, eigencomponents and the rate curve ρ(η) of a conditioning explorer's frame."""
    label = f"GD, lr = {frame.lr:.3f}"

    def path(ax: Axes) -> None:
        contour_2d(objective, {label: frame.path.points}, ax=ax, legend="below")

    def components(ax: Axes) -> None:
        factors = 1 - frame.lr * np.asarray(frame.eigenvalues)
        _components(ax, frame.errors, frame.eigenvalues,
                    frame.errors[0] * np.abs(factors) ** np.arange(len(frame.errors))[:, None])
        for line in ax.get_lines():
            if line.get_label() == "without noise":
                line.set_label(r"$|1-\eta\lambda_i|^k\,|z_{i,0}|$")
        legend(ax, "below")

    def rate(ax: Axes) -> None:
        ax.plot(lrs, rates, color="black", lw=LINE_WIDTH, label=r"rate $\rho(\eta)$")
        ax.axhline(1.0, color="gray", lw=1)
        ax.axvline(frame.limit, color="#b00000", ls=":", lw=2,
                   label=rf"limit $2/\lambda_{{\max}}$ = {frame.limit:.3g}")
        ax.plot([frame.best_lr], [frame.best_rate], "*", ms=16, color="gold", mec="black",
                label=rf"best $\eta^*$ = {frame.best_lr:.3g}")
        ax.plot([frame.lr], [min(frame.rate, rates.max())], "o", ms=10, color="white",
                mec="black", mew=1.5, label=rf"this $\eta$: $\rho$ = {frame.rate:.3f}")
        ax.set_ylim(0, max(1.2, 0))
        _finish(ax, "", r"learning rate $\eta$", r"rate $\rho$ per step", "below")

    figure = _figure({"path": path, "each eigencomponent": components,
                      "the rate against η": rate},
                     f"Gradient descent on an ill-conditioned quadratic, lr = {frame.lr:.3f}")
    if step is not None:
        _note(figure.axes[0], f"diverged at step {step}")
    return figure


# -- chapter 06 ----------------------------------------------------------------------------------


def momentum_figure(frame: Any, objective: Any, rate_map: Any, step: int | None,
                    clean: np.ndarray | None = None) -> Figure:
    """Path, (η, β) map and eigencomponents of a momentum explorer's frame."""
    label = f"momentum, lr = {frame.lr:.2f}, β = {frame.momentum:.2f}"

    def path(ax: Axes) -> None:
        paths = {label: frame.path.points}
        if clean is not None:
            paths["without noise"] = clean
        contour_2d(objective, paths, ax=ax, legend="below",
                   colors={label: OPTIMIZER_COLORS["momentum"], "without noise": "#555555"})

    def rate_map_panel(ax: Axes) -> None:
        best = rate_map.optimum
        rate_heatmap(rate_map.lrs, rate_map.momenta, rate_map.rate, levels=None,
                     marks={f"optimum η* = {best.lr:.3f}, β* = {best.momentum:.3f}":
                            (best.lr, best.momentum),
                            f"this setting: ρ = {frame.rate:.3f}": (frame.lr, frame.momentum)},
                     ax=ax, legend="below", colorbar_label="rate ρ")
        for low, high in rate_map.bands.values():
            for edge in (low, high):
                inside = edge <= rate_map.lrs[-1]
                ax.plot(edge[inside], rate_map.momenta[inside], color="white", lw=1.2, ls="--")
        for code, (x, y) in region_labels(rate_map).items():
            ax.text(x, y, REGION_NAMES[code], ha="center", va="center", fontsize=9,
                    color="black", bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})
        ax.set_title("")

    def components(ax: Axes) -> None:
        _components(ax, frame.errors, frame.eigenvalues,
                    frame.predicted if frame.noise > 0 else None)

    figure = _figure({"path": path, "rate ρ over (η, β)": rate_map_panel,
                      "each eigencomponent": components},
                     f"Momentum: lr = {frame.lr:.2f}, β = {frame.momentum:.2f}, "
                     f"noise σ = {frame.noise:g}")
    if step is not None:
        _note(figure.axes[0], f"diverged at step {step}")
    return figure


#: The room a region's name takes on the map, as fractions of the map: the width of one
#: character and the height of a line (with the white box around it), and the half-size of
#: the box around the optimum's star that no name may cover.
_CHAR_WIDTH = 0.026
_LINE_HEIGHT = 0.1
_STAR_BOX = (0.05, 0.06)


def region_labels(rate_map: Any) -> dict[int, tuple[float, float]]:
    """Where to write each region's name on the map: the most central cell of the region
    whose name, centred there, stays on the map and covers neither a name placed before
    (the larger regions are named first) nor the optimum's star. A region too small for
    that (a thin band at the edge) is left unnamed."""
    lr_grid, beta_grid = np.meshgrid(rate_map.lrs, rate_map.momenta)
    x0, y0 = rate_map.lrs[0], rate_map.momenta[0]
    x_span, y_span = rate_map.lrs[-1] - x0, rate_map.momenta[-1] - y0
    best = rate_map.optimum
    taken = [((best.lr - x0) / x_span, (best.momentum - y0) / y_span, *_STAR_BOX)]
    codes, counts = np.unique(rate_map.regions, return_counts=True)
    out = {}
    for code in codes[np.argsort(-counts, kind="stable")]:
        cells = rate_map.regions == code
        if cells.sum() < 0.02 * cells.size:
            continue
        half_w = 0.5 * _CHAR_WIDTH * len(REGION_NAMES[int(code)]) + 0.01
        half_h = 0.5 * _LINE_HEIGHT
        rows, cols = np.nonzero(cells)
        depth = np.array([_depth(cells, r, c) for r, c in zip(rows, cols, strict=True)])
        for i in np.argsort(-depth, kind="stable"):
            # the most central cells first, moved onto the map if the name would stick out
            fx = (lr_grid[rows[i], cols[i]] - x0) / x_span
            fy = (beta_grid[rows[i], cols[i]] - y0) / y_span
            fx, fy = min(max(fx, half_w), 1 - half_w), min(max(fy, half_h), 1 - half_h)
            if all(abs(fx - x) >= w + half_w or abs(fy - y) >= h + half_h
                   for x, y, w, h in taken):
                taken.append((fx, fy, half_w, half_h))
                out[int(code)] = (float(x0 + fx * x_span), float(y0 + fy * y_span))
                break
    return out


def _depth(cells: np.ndarray, row: int, col: int) -> int:
    """How many cells one can go from (row, col) in every axis direction inside the region
    (the smallest of the four), scaled so a wide region counts its width."""
    n_rows, n_cols = cells.shape
    reach = []
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        k = 0
        r, c = row + dr, col + dc
        while 0 <= r < n_rows and 0 <= c < n_cols and cells[r, c]:
            k += 1
            r, c = r + dr, c + dc
        reach.append(k)
    return min(reach)


# -- chapters 07-10 -----------------------------------------------------------------------------


def adaptive_figure(frame: Any, objective: Any, levels: Any, step: int | None,
                    color: str, name: str) -> Figure:
    """Path, step sizes and state of an adaptive explorer's frame (``name``: the optimizer's
    name for the legend, ``color`` its colour)."""
    steps = np.arange(1, len(frame.steps) + 1)
    n = len(frame.steps) if step is None else max(step - 1, 1)

    def path(ax: Axes) -> None:
        contour_2d(objective, {name: frame.path.points}, ax=ax, legend="below",
                   levels=levels, colors={name: color})

    def moves(ax: Axes) -> None:
        lr = frame.hyperparams.get("lr", 0.0)
        series = {f"|Δx{i + 1}|": np.abs(frame.steps[:n, i]) for i in range(2)}
        loss_curves({k: np.maximum(v, 1e-12) for k, v in series.items()}, x=steps[:n], ax=ax,
                    log=True, xlabel="step k", ylabel="size of the update", legend="below",
                    colors=dict(zip(series, COMPONENT_COLORS, strict=False)))
        for i in range(2):
            ax.plot(steps[:n], np.maximum(np.abs(lr * frame.gradients[:n, i]), 1e-12), "--",
                    color=COMPONENT_COLORS[i], lw=1.2,
                    label="η|g| (a plain gradient step)" if i == 0 else None)
        legend(ax, "below")

    def state(ax: Axes) -> None:
        series = {}
        shown = len(frame.path.points) if step is None else step
        for key, values in frame.path.states.items():
            for i in range(2):
                # from step 1 on (the state starts at 0, which a log axis cannot show)
                series[f"{key}[x{i + 1}]"] = np.maximum(np.abs(values[1:shown, i]), 1e-16)
        if series:
            loss_curves(series, x=np.arange(1, shown), ax=ax, log=True, xlabel="step k",
                        ylabel="|state entry|", legend="below")
        else:
            ax.text(0.5, 0.5, "plain SGD keeps no state", ha="center", va="center",
                    transform=ax.transAxes)
            _finish(ax, "", "step k", "|state entry|", None)

    figure = _figure({"path": path, "the update per coordinate": moves,
                      "the optimizer's state": state},
                     f"{name} on the {frame.surface}")
    if step is not None:
        _note(figure.axes[0], f"diverged at step {step}")
    return figure


# -- chapter 11 -----------------------------------------------------------------------------------


def schedule_figure(title: str, rates: np.ndarray, trained: Any, baseline: Any) -> Figure:
    """The schedule's curve and the training loss it gives, beside a constant rate's."""

    def curve(ax: Axes) -> None:
        schedule_plot({"this schedule": rates}, len(rates), ax=ax, legend="below")
        ax.get_lines()[0].set_color(OPTIMIZER_COLORS["momentum"])
        ax.set_xlabel("update t")

    def loss(ax: Axes) -> None:
        series = {"this schedule": trained.loss, "constant peak rate": baseline.loss}
        loss_curves(series, x=trained.steps, ax=ax, log=True, xlabel="update t",
                    ylabel="training loss (log scale)", legend="below",
                    colors={"this schedule": OPTIMIZER_COLORS["momentum"],
                            "constant peak rate": "#777777"})

    figure = _figure({"the learning rate": curve, "training loss": loss}, title,
                     panel_size=(5.6, 4.4))
    return figure


# -- chapter 05 ----------------------------------------------------------------------------------


def minibatch_figure(frame: Any, sizes: Sequence[int], noise: Sequence[float],
                     seconds: Mapping[int, float] | None, window: Any) -> Figure:
    """The cloud of minibatch gradients, the noise against b, and the time per epoch."""
    b = frame.batch_size

    def cloud(ax: Axes) -> None:
        ax.plot(frame.samples[:, 0], frame.samples[:, 1], "o", ms=3, alpha=0.5,
                color=OPTIMIZER_COLORS["sgd"], label=f"{len(frame.samples)} minibatch gradients")
        ax.plot([frame.full[0]], [frame.full[1]], "*", ms=16, color="gold", mec="black",
                label="full gradient")
        (x_low, x_high), (y_low, y_high) = window
        ax.set_xlim(x_low, x_high)
        ax.set_ylim(y_low, y_high)
        ax.set_aspect("equal", adjustable="box")
        _finish(ax, "", "∂L/∂w₁", "∂L/∂w₂", "below")

    def noise_panel(ax: Axes) -> None:
        loss_curves({"E‖g_B − ∇L‖² = σ²/b · (N−b)/(N−1)": noise}, x=list(sizes), ax=ax,
                    log=True, logx=True, xlabel="batch size b", ylabel="squared noise",
                    legend="below")
        ax.plot([b], [max(frame.noise, min(noise))], "o", ms=10, color="white", mec="black",
                mew=1.5, label=f"b = {b}")
        legend(ax, "below")

    def time_panel(ax: Axes) -> None:
        if not seconds:
            _finish(ax, "", "batch size b", "seconds per epoch", None)
            return
        xs = sorted(seconds)
        loss_curves({"one epoch, measured": [seconds[k] for k in xs]}, x=xs, ax=ax, log=True,
                    logx=True, xlabel="batch size b", ylabel="seconds per epoch",
                    legend="below")
        if b in seconds:
            ax.plot([b], [seconds[b]], "o", ms=10, color="white", mec="black", mew=1.5,
                    label=f"b = {b}")
            legend(ax, "below")

    return _figure({"minibatch gradients": cloud, "gradient noise": noise_panel,
                    "time per epoch": time_panel},
                   f"Minibatches of {b} of {frame.examples} examples")


def finite_max(values: Any, default: float = 1.0) -> float:
    """The largest finite value, or ``default``."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    return float(arr.max()) if arr.size else default
