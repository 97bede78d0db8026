"""plotting.mean_and_range: the mean of seeded runs as a line, their range as a band."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from course_lib import plotting  # noqa: E402

RUNS = {
    "SGD, lr = 0.2": np.array([[2.3, 1.0, 0.4, 0.2], [2.3, 1.4, 0.5, 0.1], [2.3, 0.9, 0.3, 0.3]]),
    "momentum 0.9, lr = 0.02": np.array([[2.3, 0.8, 0.2, 0.1], [2.3, 0.7, 0.3, 0.1],
                                         [2.3, 0.9, 0.25, 0.12]]),
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def band_limits(collection, xs):
    """The lower and upper edge of a fill_between band at each x."""
    vertices = collection.get_paths()[0].vertices
    low = [vertices[np.isclose(vertices[:, 0], x), 1].min() for x in xs]
    high = [vertices[np.isclose(vertices[:, 0], x), 1].max() for x in xs]
    return np.array(low), np.array(high)


def test_lines_are_the_means_and_bands_span_every_run():
    xs = np.array([0.0, 1.0, 2.0, 3.0])
    ax = plotting.mean_and_range(RUNS, x=xs, xlabel="epoch", log=True, title="t")
    lines = {line.get_label(): line for line in ax.get_lines()}
    bands = [c for c in ax.collections if c.get_paths() and len(c.get_paths()[0].vertices)]
    assert len(bands) == len(RUNS)
    palette = plotting.colors_for(RUNS)
    for band, (label, runs) in zip(bands, RUNS.items(), strict=True):
        np.testing.assert_allclose(lines[label].get_ydata(), runs.mean(axis=0))
        low, high = band_limits(band, xs)
        np.testing.assert_allclose(low, runs.min(axis=0))
        np.testing.assert_allclose(high, runs.max(axis=0))
        assert to_hex(band.get_facecolor()[0]) == to_hex(palette[label])
        assert to_hex(lines[label].get_color()) == to_hex(palette[label])
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[:2] == list(RUNS) and texts[2] == "shaded: lowest to highest of 3 runs"
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "epoch" and ax.get_title() == "t"


def test_one_setting_still_gets_a_legend_entry_for_its_band():
    ax = plotting.mean_and_range({"SGD": RUNS["SGD, lr = 0.2"]})
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "SGD", "shaded: lowest to highest of 3 runs"]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="shape"):
        plotting.mean_and_range({"a": np.ones(4)})
    with pytest.raises(ValueError, match="same number of points"):
        plotting.mean_and_range({"a": np.ones((2, 4)), "b": np.ones((2, 5))})
    with pytest.raises(ValueError, match="positive"):
        plotting.mean_and_range({"a": np.zeros((2, 4))}, log=True)
    with pytest.raises(ValueError, match="legend"):
        plotting.mean_and_range(RUNS, legend_place="top")
    with pytest.raises(TypeError, match="dict"):
        plotting.mean_and_range([np.ones((2, 4))])
