"""The checks an exercise's test cells call: each names what is wrong, and how to find out.

A test cell of a master notebook (otter's exception-based format) is one function whose
parameters are the learner's answers, calling one helper of this module::

    def test_nesterov_hidden(nesterov_step):
        from course_lib.grading import checks, inputs
        checks.rule(nesterov_step, "SGD", name="nesterov_step", torch_options={"nesterov": True},
                    options=inputs.draw(3, lr=(0.05, 0.5), momentum=(0.5, 0.95)),
                    problems=inputs.quadratics(3), state=["momentum_buffer"],
                    hint="chapter 06, section 'Nesterov momentum'")

A helper raises :class:`CheckFailed` with a message for the learner: the quantity, what it
should be, what the learner's is, and the hint. It never lets an error of the learner's code
(or a blank ``...`` answer) escape as a traceback.

The same helpers run in two places:

* in the learner's kernel (``grader.check("q3")``, the public checks; and ``otter run``):
  the answers are the learner's own objects;
* in ``make grade``: the answers are :class:`~course_lib.grading.session.RemoteFunction`
  proxies and plain values from a confined child process; the reference runs and the
  comparison happen in the grading process, which never ran the learner's code.

Kinds of question and their helpers:

* implement: :func:`rule` (an update rule against ``torch.optim``, whole trajectories),
  :func:`path` (a whole run), :func:`scheduled_path` (a whole run under a scheduler, with
  seeded gradient noise), :func:`schedule` (against ``lr_scheduler``),
  :func:`optimizer_class` (a ``torch.optim.Optimizer`` subclass, parity and resuming);
* compute/predict: :func:`number`, :func:`preview_number`, :func:`function`,
  :func:`sequence` (a whole sequence of values, e.g. the rate of every epoch);
* diagnose: a fixed snippet is an implement or a function question with the snippet as the
  starting point (:func:`rule` with ``call=`` adapting its signature);
* experiment: :func:`experiment` (rerun the learner's choice with hidden seeds).

Trajectories are compared by :func:`course_lib.validation.agrees`, the verdict course_lib itself
is validated with.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from course_lib.grading import inputs
from course_lib.grading.inputs import Quadratic, format_value, public_rng
from course_lib.grading.sandbox import Unsupported, plain

__all__ = ["CheckFailed", "fail", "unpack", "rule", "path", "scheduled_path", "schedule",
           "optimizer_class", "optimizer_state_exchange", "optimizer_settings", "number",
           "preview_number", "one_of", "function", "sequence", "experiment"]


class CheckFailed(AssertionError):
    """A check's verdict on a learner's answer; its message is written for the learner."""


def fail(message: str, hint: str = "") -> None:
    """Raise :class:`CheckFailed` with ``message`` and, if given, the hint."""
    raise CheckFailed(message + (f"\nHint: {hint}" if hint else ""))


# -- reaching the learner's answers, in process or in the child -----------------------------------


def _remote_types() -> tuple[type, ...]:
    from course_lib.grading.session import RemoteClass, RemoteFunction

    return RemoteFunction, RemoteClass


def answer_value(value: Any, name: str, hint: str = "") -> Any:
    """The learner's value as plain data, or a friendly failure if it is missing or blank."""
    if value is None:
        fail(f"`{name}` is not defined yet: write your answer and run its cell.", hint)
    if value is Ellipsis:
        fail(f"`{name}` is still `...`: replace the ... with your answer and run the cell.", hint)
    if isinstance(value, Unsupported):
        fail(f"`{name}` should be plain data (a number, an array, a dict); yours is "
             f"{value.type_name}.", hint)
    try:
        out = plain(value)
    except Exception:  # noqa: BLE001 - anything the wire format refuses
        fail(f"`{name}` is a {type(value).__name__}, which the checks cannot read.", hint)
    if isinstance(out, Unsupported):
        fail(f"`{name}` should be a number, an array or a dict; yours is a {out.type_name}.", hint)
    return out


class LearnerFunction:
    """Calls a learner's function (local or remote) and turns its failures into messages."""

    def __init__(self, fn: Any, name: str, hint: str = ""):
        if fn is None:
            fail(f"`{name}` is not defined yet: write it and run its cell.", hint)
        if fn is Ellipsis:
            fail(f"`{name}` is still `...`: write the function and run its cell.", hint)
        if not callable(fn) or isinstance(fn, _remote_types()[1:]):
            fail(f"`{name}` should be a function; yours is "
                 f"{getattr(fn, 'type_name', type(fn).__name__)}.", hint)
        self.fn, self.name, self.hint = fn, name, hint
        self.where = ""
        self.remote = isinstance(fn, _remote_types())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the learner's function; ``self.where`` ("at step 3") goes into messages."""
        from course_lib.grading.session import ChildStopped, LearnerError

        where = f" {self.where}" if self.where else ""
        try:
            if self.remote:
                return self.fn(*args, **kwargs)
            result = self.fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            return plain(result)
        except LearnerError as exc:
            fail(f"`{self.name}`{where} {exc}.", self.hint)
        except ChildStopped as exc:
            fail(f"`{self.name}`{where}: your notebook's process {exc}.", self.hint)
        except Exception as exc:  # noqa: BLE001 - the learner's code raised, in process
            fail(f"`{self.name}`{where} raised {type(exc).__name__}: {exc}.", self.hint)


def unpack(result: Any, count: int, fn: LearnerFunction, what: str) -> tuple[Any, ...]:
    """``result`` as ``count`` values, or a message saying what ``fn`` should return.

    For ``call=`` adapters of :func:`rule`: ``param, v = unpack(fn(...), 2, fn, "(param, v)")``.
    """
    if result is None:
        fail(f"`{fn.name}` {fn.where} returned None; it should return {what}. If you have not "
             "written it yet, replace the ... in its body.", fn.hint)
    if not isinstance(result, tuple | list) or len(result) != count:
        fail(f"`{fn.name}` {fn.where} should return {count} things, {what}; it returned "
             f"{format_value(result)}.", fn.hint)
    return tuple(result)


def _array(value: Any) -> np.ndarray | None:
    if isinstance(value, Unsupported | dict | str) or value is None or value is Ellipsis:
        return None
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _agrees(ours: Any, reference: Any) -> tuple[bool, int | None]:
    from course_lib.validation import agrees

    return agrees(ours, reference)


# -- implement: update rules ----------------------------------------------------------------------


def _default_call(fn: LearnerFunction, param: np.ndarray, grad: np.ndarray,
                  state: dict[str, Any], **options: Any) -> tuple[Any, Any]:
    return unpack(fn(param, grad, state, **options), 2, fn, "(new_param, state)")


def _options_text(options: dict[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v, 4)}" for k, v in options.items())


def rule(fn: Any, optimizer: str | type, *, name: str, options: Any, problems: Any,
         steps: int = 30, torch_options: dict[str, Any] | None = None,
         state: Sequence[str] = (), labels: dict[str, str] | None = None,
         first_step_notes: dict[str, str] | None = None, call: Callable[..., Any] | None = None,
         lrs: Any = None, hint: str = "") -> None:
    """The learner's update rule follows ``torch.optim.<optimizer>`` over whole trajectories.

    For every option set and problem, the learner's ``fn`` is applied ``steps`` times from the
    problem's start, each time to the gradient at its own current point, and the path is
    compared with the reference optimizer's on the same problem
    (:func:`course_lib.validation.agrees`). ``fn`` is called as
    ``fn(param, grad, state, **options)`` and returns ``(new_param, state)``, ``state`` being a
    dict (empty before the first step) whose entries are named as torch names them; ``call``
    adapts another signature: ``call(fn, param, grad, state, **options) -> (param, state)``.

    Args:
        options: option sets (torch's argument names): a list of dicts or an
            :func:`~course_lib.grading.inputs.draw`. ``lrs`` may instead give a learning rate
            per step (a list, or a callable of the generator), set as a scheduler would.
        problems: :class:`~course_lib.grading.inputs.Quadratic` problems, a list or a draw.
        torch_options: options given to torch only (e.g. ``{"nesterov": True}``).
        state: state entries to compare when the paths part, in the order the rule updates them.
        labels: how to call each state entry in messages (default: ``state['name']``).
        first_step_notes: a remark per state entry, added when it is wrong after step 1.
    """
    from course_lib.grading import references

    fn = LearnerFunction(fn, name, hint)
    call = call or _default_call
    rng = inputs.hidden_rng() if _drawn(options, problems, lrs) else public_rng()
    option_sets = inputs.resolve(options, rng)
    problem_list = inputs.resolve(problems, rng)
    labels = {key: labels.get(key, f"state['{key}']") for key in state} if labels else \
        {key: f"state['{key}']" for key in state}
    for opts in option_sets:
        for problem in problem_list:
            schedule = list(lrs(rng) if callable(lrs) else lrs) if lrs is not None else None
            reference = references.rule_run(optimizer, {**opts, **(torch_options or {})},
                                            problem, steps, state, schedule)
            mine = _learner_run(fn, call, opts, problem, steps, state, schedule)
            ok, row = _agrees(mine.params[1:], reference.params[1:])
            if ok:
                continue
            shown = {**opts, **(torch_options or {})}
            if schedule is not None:
                shown.pop("lr", None)
            setting = _options_text(shown)
            if schedule is not None:
                setting += f") with the learning rate {_schedule_text(schedule)} ("
            header = (f"`{name}` does not follow torch.optim.{_class_name(optimizer)}({setting}) "
                      f"on {problem}:").replace(" ()", "")
            step = row + 1
            detail = _diagnose(step, mine, reference, state, labels, first_step_notes or {})
            if schedule is not None and step > 1 and schedule[step - 1] != schedule[step - 2]:
                detail += (f" This is the first step after the learning rate changed from "
                           f"{schedule[step - 2]:.4g} to {schedule[step - 1]:.4g}.")
            fail(f"{header}\n  {detail}", hint)


def _schedule_text(lrs: Sequence[float]) -> str:
    """``[0.6]*10 + [0.06]*10`` as "0.6 for steps 1-10, then 0.06 for steps 11-20"."""
    runs: list[list[Any]] = []
    for step, lr in enumerate(lrs, start=1):
        if runs and runs[-1][0] == lr:
            runs[-1][2] = step
        else:
            runs.append([lr, step, step])
    if len(runs) > 4:
        return f"changing at every step ({format_value(list(lrs), 3)})"
    parts = [f"{lr:.4g} for step{'s' if a != b else ''} {a}" + (f"-{b}" if a != b else "")
             for lr, a, b in runs]
    return ", then ".join(parts)


def _drawn(*specs: Any) -> bool:
    return any(isinstance(s, inputs.Draw) or callable(s) and not isinstance(s, type)
               for s in specs if s is not None)


def _class_name(optimizer: str | type) -> str:
    return optimizer if isinstance(optimizer, str) else optimizer.__name__


def _learner_run(fn: LearnerFunction, call: Callable[..., Any], options: dict[str, Any],
                 problem: Quadratic, steps: int, state_names: Sequence[str],
                 schedule: list[float] | None) -> Any:
    from course_lib.grading.references import Run

    x = problem.start.copy()
    state: dict[str, Any] = {}
    params, grads = [x.copy()], []
    states: dict[str, list[Any]] = {key: [] for key in state_names}
    for step in range(1, steps + 1):
        grad = problem.gradient(x)
        opts = dict(options)
        if schedule is not None:
            opts["lr"] = schedule[step - 1]
        where = fn.where = f"at step {step}"
        new_x, new_state = call(fn, x.copy(), grad.copy(), copy.deepcopy(state), **opts)
        array = _array(new_x)
        if array is None:
            fail(f"`{fn.name}` {where} returned {format_value(new_x)} as the new parameter; it "
                 "should be a numpy array like the parameter it was given.", fn.hint)
        if array.shape != x.shape:
            fail(f"`{fn.name}` {where} returned a parameter of shape {array.shape}; the parameter "
                 f"it was given has shape {x.shape}.", fn.hint)
        if not isinstance(new_state, dict):
            fail(f"`{fn.name}` {where} returned {format_value(new_state)} as the state; it should "
                 "be the state dict (start from the one you were given).", fn.hint)
        x, state = array, new_state
        params.append(x.copy())
        grads.append(grad)
        for key in state_names:
            states[key].append(state.get(key))
    return Run(np.array(params), np.array(grads), states)


def _diagnose(step: int, mine: Any, reference: Any, state_names: Sequence[str],
              labels: dict[str, str], notes: dict[str, str]) -> str:
    """What first goes wrong after ``step`` (1-based): a state entry in update order, or θ."""
    candidates = {"the gradient": reference.grads[step - 1],
                  "the parameter before the step": reference.params[step - 1]}
    if step > 1:
        for key in state_names:
            previous = reference.states[key][step - 2]
            if previous is not None:
                candidates[f"the previous {labels[key]}"] = previous
    for key in state_names:
        expected, got = reference.states[key][step - 1], mine.states[key][step - 1]
        if expected is None:
            continue
        if got is None:
            return (f"after step {step} your state has no entry '{key}': keep "
                    f"{labels[key]} there, under torch's name.")
        got_array = _array(got)
        if got_array is None or got_array.shape != np.shape(expected):
            return (f"after step {step}, {labels[key]} should be {format_value(expected)}; yours "
                    f"is {format_value(got)}.")
        if not _agrees(np.atleast_1d(got_array)[None], np.atleast_1d(expected)[None])[0]:
            note = notes.get(key) if step == 1 else None
            return _should_be(f"after step {step}, {labels[key]}", expected, got_array,
                              candidates, note)
    return _should_be(f"after step {step}, the parameter", reference.params[step],
                      mine.params[step], candidates,
                      None, before=reference.params[step - 1])


def _should_be(what: str, expected: Any, got: Any, candidates: dict[str, Any],
               note: str | None, before: Any = None) -> str:
    expected_rel = _relation(expected, candidates)
    got_rel = _relation(got, candidates)
    digits = _digits_that_differ(expected, got)
    if expected_rel and expected_rel.startswith("equal to"):
        exp_text = f"equal {expected_rel[len('equal to '):]}, {format_value(expected, digits)}"
    else:
        exp_text = (f"be {format_value(expected, digits)}"
                    + (f" ({expected_rel})" if expected_rel else ""))
    text = f"{what} should {exp_text}"
    if note:
        text += f" ({note})"
    text += f"; yours is {got_rel + ', ' if got_rel else ''}{format_value(got, digits)}"
    if before is not None and not got_rel:
        step_expected = np.asarray(expected) - np.asarray(before)
        step_got = np.asarray(got) - np.asarray(before)
        ratio = _scalar_multiple(step_got, step_expected)
        if ratio is not None and not math.isclose(ratio, 1.0, rel_tol=1e-6):
            text += f": your step is {format_value(ratio, 4)} × torch's step"
    return text + "."


def _digits_that_differ(expected: Any, got: Any) -> int:
    """Significant digits to print two values with: 6, or more (up to 17) when the two differ
    but print alike with 6 ("should be 0.735089; yours is 0.735089" says nothing)."""
    for digits in (6, 9, 12, 15, 17):
        if format_value(expected, digits) != format_value(got, digits):
            return digits
    return 6


def _scalar_multiple(value: Any, base: Any) -> float | None:
    value, base = np.asarray(value, dtype=np.float64), np.asarray(base, dtype=np.float64)
    if value.shape != base.shape or not np.all(np.isfinite(value)):
        return None
    norm = float(base.reshape(-1) @ base.reshape(-1))
    if norm == 0.0:
        return None
    scale = float(value.reshape(-1) @ base.reshape(-1)) / norm
    # the tolerance scales with the value: state entries of 1e-12 (Adadelta's u) are not a
    # multiple of every gradient
    if np.allclose(value, scale * base, rtol=1e-7, atol=1e-12 * np.abs(value).max()):
        return scale
    return None


def _relation(value: Any, candidates: dict[str, Any]) -> str | None:
    """``value`` in words: "equal to the gradient", "0.9 × the gradient", "zero", or None."""
    array = _array(value)
    if array is None:
        return None
    if not np.all(np.isfinite(array)):
        return "not finite (NaN or inf)"
    if array.size and not np.any(array):
        return "zero"
    for label, candidate in candidates.items():
        scale = _scalar_multiple(array, candidate)
        if scale is None:
            continue
        if math.isclose(scale, 1.0, rel_tol=1e-9):
            return f"equal to {label}"
        if math.isclose(scale, -1.0, rel_tol=1e-9):
            return f"minus {label}"
        return f"{format_value(scale, 4)} × {label}"
    return None


# -- implement: whole runs, schedules, optimizer classes ------------------------------------------


def path(fn: Any, optimizer: str | type, *, name: str, options: Any, problems: Any,
         steps: int = 20, hint: str = "") -> None:
    """``fn(gradient, x0, lr, steps)`` returns the whole path, which must be torch's.

    ``gradient`` is the problem's gradient as a function; the path has ``steps + 1`` rows, the
    start first. Compared with ``torch.optim.<optimizer>`` as :func:`rule` does.
    """
    fn = LearnerFunction(fn, name, hint)
    rng = inputs.hidden_rng() if _drawn(options, problems) else public_rng()
    from course_lib.grading import references

    for opts in inputs.resolve(options, rng):
        for problem in inputs.resolve(problems, rng):
            reference = references.rule_run(optimizer, opts, problem, steps)
            fn.where = f"on {problem}"
            got = fn(problem.gradient_function(), problem.start.copy(), steps=steps, **opts)
            setting = f"{_options_text(opts)}, steps={steps}"
            array = _array(got)
            if array is None:
                fail(f"`{name}(gradient, x0, {setting})` returned {format_value(got)}; it should "
                     "return the path as an array with one row per point, the start first.", hint)
            expected_shape = reference.params.shape
            if array.shape != expected_shape:
                fail(f"`{name}(gradient, x0, {setting})` on {problem} returned an array of shape "
                     f"{array.shape}; it should have shape {expected_shape}: {steps + 1} points "
                     "(the start, then one per step), each with as many numbers as x0.", hint)
            ok, row = _agrees(array, reference.params)
            if not ok:
                candidates = {"the gradient": reference.grads[row - 1]} if row else {}
                detail = _should_be(f"point {row} (after {row} steps)", reference.params[row],
                                    array[row], candidates, None,
                                    before=reference.params[row - 1] if row else None)
                fail(f"`{name}` does not follow torch.optim.{_class_name(optimizer)}({setting}) "
                     f"on {problem}:\n  {detail}", hint)


def scheduled_path(fn: Any, make: Callable[[list[Any], dict[str, Any]], tuple[Any, Any]], *,
                   name: str, options: Any, problems: Any, steps: int = 30,
                   describe: Callable[[dict[str, Any]], str] | None = None,
                   hint: str = "") -> None:
    """``fn(gradient, x0, steps=steps, **options)`` returns the whole path of a torch optimizer
    driven by a learning-rate scheduler, with seeded gradient noise.

    ``make(params, options) -> (optimizer, scheduler)`` builds the reference from torch
    (``scheduler`` may be None), stepped as torch prescribes: ``optimizer.step()``, then
    ``scheduler.step()``. ``options`` (a list or a draw of dicts) are the learner's keyword
    arguments. With ``noise`` and ``seed`` among them, the gradient of every step is
    ∇f(x) + noise·ξ, with ξ = ``rng.standard_normal(dim)`` drawn once per step, in step order,
    from ``rng = np.random.default_rng(seed)``: the draws of
    :func:`course_lib.trajectories.run`. The learner is given the exact gradient and adds the
    noise. ``describe(options)`` names the reference in messages.
    """
    fn = LearnerFunction(fn, name, hint)
    rng = inputs.hidden_rng() if _drawn(options, problems) else public_rng()
    for opts in inputs.resolve(options, rng):
        for problem in inputs.resolve(problems, rng):
            reference = _scheduled_run(make, opts, problem, steps)
            fn.where = f"on {problem}"
            got = fn(problem.gradient_function(), problem.start.copy(), steps=steps, **opts)
            setting = ", ".join(f"{k}={v}" if isinstance(v, int) and not isinstance(v, bool)
                                else f"{k}={format_value(v, 4)}" for k, v in
                                {**opts, "steps": steps}.items())
            what = describe(opts) if describe else setting
            array = _array(got)
            if array is None:
                fail(f"`{name}(gradient, x0, {setting})` returned {format_value(got)}; it should "
                     "return the path as an array with one row per point, the start first.", hint)
            if array.shape != reference["params"].shape:
                fail(f"`{name}(gradient, x0, {setting})` on {problem} returned an array of shape "
                     f"{array.shape}; it should have shape {reference['params'].shape}: "
                     f"{steps + 1} points (the start, then one per step), each with as many "
                     "numbers as x0.", hint)
            ok, row = _agrees(array, reference["params"])
            if not ok:
                fail(f"`{name}` does not follow {what} on {problem}:\n  "
                     f"{_scheduled_detail(row, array, reference, opts)}", hint)


def _scheduled_run(make: Callable[..., tuple[Any, Any]], options: dict[str, Any],
                   problem: Quadratic, steps: int) -> dict[str, np.ndarray]:
    """The reference path of :func:`scheduled_path`, with each step's rate, gradient and draw."""
    import torch

    param = torch.tensor(problem.start, dtype=torch.float64, requires_grad=True)
    optimizer, scheduler = make([param], options)
    noise = float(options.get("noise", 0.0) or 0.0)
    generator = np.random.default_rng(options.get("seed", 0))
    params, lrs, exact, draws = [problem.start.copy()], [], [], []
    for _ in range(steps):
        x = param.detach().numpy().copy()
        gradient, draw = problem.gradient(x), generator.standard_normal(x.shape)
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        param.grad = torch.from_numpy(gradient + noise * draw)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        params.append(param.detach().numpy().copy())
        exact.append(gradient)
        draws.append(draw)
    return {"params": np.array(params), "lrs": np.array(lrs), "exact": np.array(exact),
            "draws": np.array(draws), "noise": np.array(noise)}


def _scheduled_detail(row: int, got: np.ndarray, reference: dict[str, np.ndarray],
                      options: dict[str, Any]) -> str:
    """What went wrong at the first point of a scheduled, noisy path that parts from torch's."""
    params = reference["params"]
    if row == 0:
        return (f"the first point should be the start x0, {format_value(params[0])}; yours is "
                f"{format_value(got[0])}.")
    t, noise = row - 1, float(reference["noise"])
    lr = reference["lrs"][t]
    text = (f"after step {row} (update t={t}, learning rate {lr:.6g}), the point should be "
            f"{format_value(params[row])}; yours is {format_value(got[row])}.")
    mine = got[row] - params[row - 1]
    scale = _scalar_multiple(mine, -(reference["exact"][t] + noise * reference["draws"][t]))
    if scale is not None:
        if not math.isclose(scale, lr, rel_tol=1e-7):
            text += f" Your step used the learning rate {scale:.6g}"
            other = [j for j, rate in enumerate(reference["lrs"])
                     if math.isclose(rate, scale, rel_tol=1e-7)]
            if other:
                text += (f", torch's rate for update t={other[0]}: the first update has t=0, "
                         "and the rate changes after each update")
            text += "."
    elif noise and _scalar_multiple(mine, -reference["exact"][t]) is not None:
        text += " Your step has no noise in it: add noise × a standard normal draw to the gradient."
    elif noise:
        text += (" Your noise is not the noise of this step: create "
                 "rng = np.random.default_rng(seed) once, then draw rng.standard_normal(x0.shape) "
                 "once per step, in step order.")
    return text


def schedule(fn: Any, scheduler: str | Callable[..., Any], *, name: str, options: Any,
             steps: int = 40, base_lr: float = 0.1, call: Callable[..., Any] | None = None,
             describe: Callable[[dict[str, Any]], str] | None = None, hint: str = "") -> None:
    """``fn(t, base_lr, **options)``, the learning rate of update t (0-based), is torch's.

    The reference is ``torch.optim.lr_scheduler.<scheduler>`` stepped after every
    ``optimizer.step()``; ``call(fn, t, base_lr, **options)`` adapts another signature.
    ``scheduler`` may instead build the reference, ``scheduler(optimizer, **options)``, for a
    composition such as ``SequentialLR``; ``describe(options)`` then names it in messages.
    """
    fn = LearnerFunction(fn, name, hint)
    rng = inputs.hidden_rng() if _drawn(options) else public_rng()
    from course_lib.grading import references

    for opts in inputs.resolve(options, rng):
        expected = references.schedule_lrs(scheduler, opts, steps, base_lr)
        got = []
        for t in range(steps):
            where = fn.where = f"at t={t}"
            value = call(fn, t, base_lr, **opts) if call else fn(t, base_lr, **opts)
            number_value = _array(value)
            if number_value is None or number_value.size != 1:
                fail(f"`{name}` {where} returned {format_value(value)}; it should return one "
                     "number, the learning rate.", hint)
            got.append(float(number_value.reshape(-1)[0]))
        ok, row = _agrees(np.array(got)[:, None], expected[:, None])
        if not ok:
            what = (describe(opts) if describe else
                    f"torch.optim.lr_scheduler.{scheduler}({_options_text(opts)})"
                    if isinstance(scheduler, str) else
                    f"{getattr(scheduler, '__name__', 'the reference')}({_options_text(opts)})")
            fail(f"`{name}` does not match {what} with base lr {base_lr:g}: at update t={row} "
                 f"the learning rate should be {expected[row]:.6g}; yours is {got[row]:.6g}.",
                 hint)


def optimizer_class(cls: Any, reference: str, *, name: str, options: Any, problems: Any,
                    steps: int = 20, resume_at: int | None = None, groups: Any = None,
                    without_grad: list[list[int]] | None = None, hint: str = "") -> None:
    """A learner's ``torch.optim.Optimizer`` subclass takes ``torch.optim.<reference>``'s path.

    Both classes run through the same routine
    (:func:`~course_lib.grading.sandbox.drive_optimizer_class`): the learner's in the child (or
    in process), torch's here. With ``resume_at=k`` the learner's run is stopped after step k,
    its ``state_dict`` saved and loaded into a new instance, and continued; with ``groups``
    (option overrides, one per group) the parameters are split into that many groups.
    ``groups`` may also be a callable ``groups(rng, options) -> overrides``, drawn for each
    option set. ``without_grad`` lists ``[step, group]`` pairs where that group's parameter
    has no gradient (``.grad`` is None), as when it took no part in the loss.
    """
    from course_lib.grading import references, sandbox

    _check_class(cls, name, hint)
    reference_class = references.optimizer_class(reference)
    rng = inputs.hidden_rng() if _drawn(options, problems, groups) else public_rng()
    for opts in inputs.resolve(options, rng):
        chosen_groups = groups(rng, opts) if callable(groups) else groups
        for problem in inputs.resolve(problems, rng):
            kwargs = {"hessian": problem.hessian, "b": problem.b, "start": problem.start,
                      "options": opts, "steps": steps, "groups": chosen_groups}
            if without_grad:
                kwargs["without_grad"] = without_grad
            expected = plain(sandbox.drive_optimizer_class(reference_class, **kwargs))["path"]
            setting = _class_setting(opts, chosen_groups, without_grad)
            resumed = f" saved after step {resume_at} and resumed" if resume_at else ""
            what = f"`{name}({setting})`{resumed}"
            result = _drive_learner_class(cls, {**kwargs, "resume_at": resume_at}, what, hint)
            got = _array(result.get("path") if isinstance(result, dict) else None)
            if got is None or got.shape != expected.shape:
                fail(f"{what} on {problem} did not produce a path of {steps} steps.", hint)
            ok, row = _agrees(got, expected)
            if not ok and resume_at and row < resume_at:  # it parts before the checkpoint
                resumed = f" (before it was saved after step {resume_at})"
            _class_path_agrees(got, expected, problem, chosen_groups, 0,
                               f"`{name}`{resumed} does not follow torch.optim.{reference}"
                               f"({setting}) on {problem}", hint)


def _check_class(cls: Any, name: str, hint: str) -> None:
    from course_lib.grading.session import RemoteClass

    if cls is None or cls is Ellipsis:
        fail(f"`{name}` is not defined yet: write the class and run its cell.", hint)
    if not isinstance(cls, RemoteClass) and not isinstance(cls, type):
        fail(f"`{name}` should be a class (a torch.optim.Optimizer subclass).", hint)


def _class_setting(options: dict[str, Any], groups: Any, without_grad: Any = None) -> str:
    setting = _options_text(options)
    if groups:
        setting += (", " if setting else "") + f"parameter groups {format_value(groups, 4)}"
    if without_grad:
        missing: dict[int, list[int]] = {}
        for step, group in without_grad:
            missing.setdefault(int(group), []).append(int(step))
        setting += "; no gradient " + ", ".join(
            f"for group {g} at steps {', '.join(map(str, sorted(s)))}"
            for g, s in sorted(missing.items()))
    return setting


def _drive_learner_class(cls: Any, kwargs: dict[str, Any], what: str, hint: str) -> Any:
    """The learner's class run by the sandbox's driver: in the child, or in this process."""
    from course_lib.grading import sandbox
    from course_lib.grading.session import ChildStopped, LearnerError, RemoteClass

    try:
        if isinstance(cls, RemoteClass):
            return cls.session.drive("optimizer_class", cls.name, kwargs,
                                     seconds=max(10.0, cls.session.limits.call_seconds))
        return plain(sandbox.drive_optimizer_class(cls, **kwargs))
    except (LearnerError, ChildStopped) as exc:
        fail(f"{what} {exc}.", hint)
    except Exception as exc:  # noqa: BLE001 - the learner's class raised, in process
        fail(f"{what} raised {type(exc).__name__}: {exc}.", hint)


def _class_path_agrees(got: np.ndarray, expected: np.ndarray, problem: Quadratic, groups: Any,
                       offset: int, header: str, hint: str) -> None:
    """Fail with the first step (``offset`` steps were taken before ``got``) that parts."""
    ok, row = _agrees(got, expected)
    if ok:
        return
    before = expected[row - 1] if row else (problem.start if offset == 0 else None)
    candidates = {"the gradient": problem.gradient(before)} if before is not None else {}
    scale = float(np.max(np.abs(expected[row]))) or 1.0
    gap = float(np.max(np.abs(got[row] - expected[row]))) / scale
    if np.all(np.isfinite(got[row])) and gap < 1e-5:  # the digits shown would look equal
        detail = (f"after step {offset + row + 1}, the parameter should be "
                  f"{format_value(expected[row], 12)}; yours is {format_value(got[row], 12)}. "
                  f"They differ in the last digits only, by {gap:.1g} relative to the "
                  "parameter: a rounding difference, such as arithmetic in float32 (a tensor "
                  "of the default dtype, or a float32 state['step']) instead of the "
                  "parameter's float64.")
    else:
        detail = _should_be(f"after step {offset + row + 1}, the parameter", expected[row],
                            got[row], candidates, None, before=before)
    if groups and len(groups) > 1:
        pieces = np.array_split(np.arange(expected.shape[1]), len(groups))
        wrong = next((i for i, piece in enumerate(pieces)
                      if not _agrees(got[row:row + 1, piece], expected[row:row + 1, piece])[0]),
                     None)
        if wrong is not None:
            own = format_value(groups[wrong], 4) if groups[wrong] else "the constructor's"
            detail += f" The first group that parts is group {wrong} (its options: {own})."
    fail(f"{header}:\n  {detail}", hint)


def optimizer_state_exchange(cls: Any, reference: str, *, name: str, options: Any,
                             problems: Any, direction: str, steps: int = 20,
                             at: int | Callable[[np.random.Generator], int] = 10,
                             groups: Any = None, hint: str = "") -> None:
    """The learner's ``state_dict`` and ``torch.optim.<reference>``'s are interchangeable.

    ``direction="to_torch"``: the learner's optimizer runs ``at`` steps and saves its
    ``state_dict``; torch's class loads it (on the learner's parameters) and continues. The
    path must be torch's own uninterrupted one. ``direction="from_torch"``: torch runs ``at``
    steps, the learner's class loads torch's ``state_dict`` and continues. ``at`` may be drawn
    (a callable of the generator); ``groups`` as in :func:`optimizer_class`.
    """
    from course_lib.grading import references, sandbox

    if direction not in ("to_torch", "from_torch"):
        raise ValueError(f"direction must be 'to_torch' or 'from_torch', got {direction!r}")
    _check_class(cls, name, hint)
    reference_class = references.optimizer_class(reference)
    rng = inputs.hidden_rng() if _drawn(options, problems, groups, at) else public_rng()
    for opts in inputs.resolve(options, rng):
        chosen_groups = groups(rng, opts) if callable(groups) else groups
        k = int(at(rng)) if callable(at) else int(at)
        for problem in inputs.resolve(problems, rng):
            kwargs = {"hessian": problem.hessian, "b": problem.b, "options": opts,
                      "groups": chosen_groups}
            torch_run = plain(sandbox.drive_optimizer_class(
                reference_class, start=problem.start, steps=steps, resume_at=k, **kwargs))
            expected = torch_run["path"]
            setting = _class_setting(opts, chosen_groups)
            if direction == "from_torch":
                what = (f"`{name}({setting})`, loaded with torch.optim.{reference}'s state_dict "
                        f"after step {k}")
                result = _drive_learner_class(
                    cls, {**kwargs, "start": expected[k - 1], "steps": steps - k,
                          "load_state": torch_run["saved"]}, what, hint)
                got = _array(result.get("path") if isinstance(result, dict) else None)
                if got is None or got.shape != expected[k:].shape:
                    fail(f"{what} on {problem} did not produce a path of {steps - k} steps.",
                         hint)
                _class_path_agrees(got, expected[k:], problem, chosen_groups, k,
                                   f"{what} does not continue torch's run on {problem}", hint)
                continue
            what = f"`{name}({setting})`"
            mine = _drive_learner_class(cls, {**kwargs, "start": problem.start, "steps": k,
                                              "resume_at": k}, what, hint)
            got = _array(mine.get("path") if isinstance(mine, dict) else None)
            if got is None or got.shape != expected[:k].shape:
                fail(f"{what} on {problem} did not produce a path of {k} steps.", hint)
            _class_path_agrees(got, expected[:k], problem, chosen_groups, 0,
                               f"`{name}` does not follow torch.optim.{reference}({setting}) on "
                               f"{problem} (get this right first)", hint)
            saved = mine.get("saved")
            names = sorted({key for entries in torch_run["saved"].values() for key in entries})
            try:
                continued = plain(sandbox.drive_optimizer_class(
                    reference_class, start=got[-1], steps=steps - k, load_state=saved,
                    **kwargs))["path"]
            except Exception as exc:  # noqa: BLE001 - whatever the learner's state holds
                fail(f"torch.optim.{reference}({setting}) cannot load the state_dict of `{name}` "
                     f"saved after step {k} ({type(exc).__name__}: {exc}). Torch's state "
                     f"entries are named {', '.join(repr(n) for n in names) or '(none)'}; "
                     f"yours: {format_value(_state_names(saved))}.", hint)
            _class_path_agrees(continued, expected[k:], problem, chosen_groups, k,
                               f"torch.optim.{reference}({setting}), loaded with the state_dict "
                               f"of `{name}` after step {k}, does not continue as torch's own run "
                               f"on {problem} (torch's state entries: "
                               f"{', '.join(repr(n) for n in names) or '(none)'})", hint)


def _state_names(state: Any) -> Any:
    if not isinstance(state, dict):
        return state
    return sorted({str(key) for entries in state.values() if isinstance(entries, dict)
                   for key in entries})


def optimizer_settings(fn: Any, cases: Any, reference: Callable[..., tuple[str, dict[str, Any]]],
                       *, name: str, hint: str = "") -> None:
    """``fn(*args, **kwargs)`` names a ``torch.optim`` class and its arguments, as a pair
    ``(class_name, arguments)``, that run with the settings of ``reference(*args, **kwargs)``.

    ``cases`` is a list (or a draw) of ``(args, kwargs)``. Both pairs are built into torch
    optimizers, so arguments left at torch's defaults count as given; the class must be the
    reference's, and every argument the reference sets must have its value. For porting
    questions (a Keras optimizer's arguments in torch's terms).
    """
    import torch

    fn = LearnerFunction(fn, name, hint)
    rng = inputs.hidden_rng() if _drawn(cases) else public_rng()
    for args, kwargs in inputs.resolve(cases, rng):
        shown = ", ".join([format_value(a) for a in args]
                          + [f"{k}={format_value(v)}" for k, v in kwargs.items()])
        fn.where = f"for {name}({shown})"
        got = fn(*args, **kwargs)
        torch_class, arguments = reference(*args, **kwargs)
        want = f"torch.optim.{torch_class}({_options_text(arguments)})"
        if (not isinstance(got, tuple | list) or len(got) != 2 or not isinstance(got[0], str)
                or not isinstance(got[1], dict)):
            fail(f"`{name}({shown})` returned {format_value(got)}; it should return a pair: the "
                 "name of a torch.optim class and a dict of its arguments.", hint)
        yours = f"torch.optim.{got[0]}({_options_text(got[1])})"
        if got[0] != torch_class:
            fail(f"`{name}({shown})` should give {want}; yours is {yours}.", hint)
        param = [torch.zeros(1, requires_grad=True)]
        try:
            mine = getattr(torch.optim, got[0])(param, **got[1]).defaults
        except Exception as exc:  # noqa: BLE001 - whatever the learner's arguments hold
            fail(f"`{name}({shown})` gives {yours}, which torch refuses ({type(exc).__name__}: "
                 f"{exc}); it should give {want}.", hint)
        theirs = getattr(torch.optim, torch_class)(param, **arguments).defaults
        for key in arguments:
            if not _same_setting(mine.get(key), theirs[key]):
                fail(f"`{name}({shown})` should give {want}; yours gives {key}="
                     f"{format_value(mine.get(key))} ({yours}).", hint)


def _same_setting(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    first = list(a) if isinstance(a, tuple | list) else [a]
    second = list(b) if isinstance(b, tuple | list) else [b]
    try:
        return len(first) == len(second) and all(
            math.isclose(float(x), float(y), rel_tol=1e-12, abs_tol=0.0)
            for x, y in zip(first, second, strict=True))
    except (TypeError, ValueError):
        return False


# -- compute / predict ----------------------------------------------------------------------------


def number(value: Any, expected: float, *, name: str, rtol: float = 1e-6, atol: float = 1e-12,
           what: str = "", hint: str = "") -> None:
    """The learner's number equals ``expected`` (computed by the check) to ``rtol``/``atol``."""
    got = _single_number(answer_value(value, name, hint), name, hint)
    if not math.isclose(got, float(expected), rel_tol=rtol, abs_tol=atol):
        subject = what or f"`{name}`"
        fail(f"{subject} is not right: yours is {got:.6g}.", hint)


def one_of(value: Any, allowed: Sequence[Any], *, name: str, hint: str = "") -> Any:
    """The learner's choice (plain data, e.g. the name of an optimizer) if it is among
    ``allowed``, else a failure that lists them. Returns the value, for the check to use."""
    got = answer_value(value, name, hint)
    if isinstance(got, str | int | float | bool) and got in list(allowed):
        return got
    fail(f"`{name}` should be one of {', '.join(repr(a) for a in allowed)}; yours is "
         f"{format_value(got)}.", hint)


def preview_number(value: Any, *, name: str, low: float | None = None, high: float | None = None,
                   hint: str = "") -> None:
    """A public check of form only: one finite number, optionally within ``[low, high]``."""
    got = _single_number(answer_value(value, name, hint), name, hint)
    if (low is not None and got < low) or (high is not None and got > high):
        fail(f"`{name}` = {got:.6g} cannot be right: it should lie between "
             f"{format_value(low)} and {format_value(high)}.", hint)


def _single_number(value: Any, name: str, hint: str) -> float:
    array = _array(value)
    if isinstance(value, bool) or array is None or array.size != 1:
        fail(f"`{name}` should be one number; yours is {format_value(value)}.", hint)
    got = float(array.reshape(-1)[0])
    if not math.isfinite(got):
        fail(f"`{name}` should be a finite number; yours is {got}.", hint)
    return got


def function(fn: Any, cases: Any, reference: Callable[..., Any], *, name: str,
             rtol: float = 1e-9, atol: float = 1e-12, show: Callable[..., str] | None = None,
             hint: str = "") -> None:
    """``fn(*case)`` equals ``reference(*case)`` for every case (a list of argument tuples, or a
    draw of them); ``show(*case)`` describes a case in messages (default: the arguments).
    Numbers and arrays are compared to ``rtol``/``atol``; a reference that returns a string (a
    category such as ``"saddle point"``) wants exactly that string."""
    fn = LearnerFunction(fn, name, hint)
    rng = inputs.hidden_rng() if _drawn(cases) else public_rng()
    for case in inputs.resolve(cases, rng):
        args = case if isinstance(case, tuple) else (case,)
        described = show(*args) if show else ", ".join(format_value(a) for a in args)
        expected = reference(*args)
        fn.where = f"for {described}"
        got = fn(*args)
        if isinstance(expected, str):  # a category ("minimum", "saddle point"), compared as text
            if not isinstance(got, str):
                fail(f"`{name}({described})` returned {format_value(got)}; it should return a "
                     f"string (here {expected!r}).", hint)
            if got != expected:
                fail(f"`{name}({described})` should be {expected!r}; yours is {got!r}.", hint)
            continue
        got_array, exp_array = _array(got), np.asarray(expected, dtype=np.float64)
        if got_array is None or got_array.shape != exp_array.shape:
            wanted = ("one number" if exp_array.ndim == 0
                      else f"an array of shape {exp_array.shape}")
            fail(f"`{name}({described})` returned {format_value(got)}; it should return {wanted}.",
                 hint)
        if not np.allclose(got_array, exp_array, rtol=rtol, atol=atol, equal_nan=False):
            digits = _digits_that_differ(expected, got)
            fail(f"`{name}({described})` should be {format_value(expected, digits)}; yours is "
                 f"{format_value(got, digits)}.", hint)


# -- experiment -----------------------------------------------------------------------------------


def experiment(choice: Any, run: Callable[[Any, int], float], *, name: str, target: float,
               seeds: int = 1, budget: Callable[[Any], str | None] | None = None,
               metric: str = "the result", at_most: bool = False, hint: str = "") -> None:
    """Rerun the learner's choice (plain data) with hidden seeds; every result reaches ``target``.

    ``run(choice, seed)`` is the check's own code (e.g. a ``course_lib.training`` run), so
    it executes in the grading process. ``budget(choice)`` returns a message if the choice
    breaks the rules of the question (too many epochs, an unknown optimizer), else None.
    A result must be at least ``target``, or, with ``at_most=True`` (a loss, a distance), at
    most ``target``.
    """
    value = answer_value(choice, name, hint)
    if budget is not None:
        problem = budget(value)
        if problem:
            fail(f"`{name}` = {format_value(value)}: {problem}", hint)
    rng = inputs.hidden_rng()
    for seed in rng.integers(0, 2**31 - 1, size=seeds):
        try:
            result = float(run(value, int(seed)))
        except Exception as exc:  # noqa: BLE001 - the choice could not be run (bad values)
            fail(f"`{name}` = {format_value(value)} could not be run: "
                 f"{type(exc).__name__}: {exc}.", hint)
        if not (result <= target if at_most else result >= target):
            fail(f"with your choice {format_value(value)} and a new seed, {metric} is "
                 f"{result:.4g}; it should be at {'most' if at_most else 'least'} {target:g}.",
                 hint)


# -- sequences ------------------------------------------------------------------------------------


def sequence(fn: Any, cases: Any, reference: Callable[..., Any], *, name: str,
             what: str = "the value", index: str = "step", first: int = 0,
             show: Callable[..., str] | None = None,
             explain: Callable[[tuple[Any, ...], np.ndarray, np.ndarray], str | None] | None = None,
             hint: str = "") -> None:
    """``fn(*case)`` returns a whole sequence of numbers, which must be ``reference(*case)``'s.

    For the learning rate each update (or epoch) used, the values a scheduler object returns,
    and the like. ``cases`` is a list of argument tuples or a draw of them. The sequences are
    compared as one trajectory by :func:`course_lib.validation.agrees` (relative to the
    sequence's largest value); the message names the first entry that differs, counting from
    ``first`` in units of ``index`` ("at epoch 3, the learning rate should be 0.06; yours is
    0.3"), and adds ``explain(case, got, expected)`` when that recognises the mistake.
    """
    from course_lib.validation import FLOAT64_MAX_REL

    fn = LearnerFunction(fn, name, hint)
    rng = inputs.hidden_rng() if _drawn(cases) else public_rng()
    for case in inputs.resolve(cases, rng):
        args = case if isinstance(case, tuple) else (case,)
        described = show(*args) if show else ", ".join(format_value(a) for a in args)
        expected = np.asarray(reference(*args), dtype=np.float64).reshape(-1)
        fn.where = f"for {described}"
        got = fn(*args)
        array = _array(got)
        if array is None or array.ndim != 1:
            fail(f"`{name}({described})` returned {format_value(got)}; it should return a list "
                 f"of {expected.size} numbers, {what} at each {index}.", hint)
        if array.size != expected.size:
            fail(f"`{name}({described})` returned {array.size} numbers; it should return "
                 f"{expected.size}, {what} at each {index} from {first} to "
                 f"{first + expected.size - 1}.", hint)
        ok, _ = _agrees(array[None], expected[None])
        if ok:
            continue
        scale = max(float(np.abs(expected).max()), np.finfo(np.float64).tiny)
        differs = ~(np.abs(array - expected) <= FLOAT64_MAX_REL * scale)
        at = int(np.argmax(differs))
        message = (f"`{name}({described})`: at {index} {first + at}, {what} should be "
                   f"{expected[at]:.6g}; yours is {array[at]:.6g}.")
        extra = explain(args, array, expected) if explain else None
        fail(message + (f" {extra}" if extra else ""), hint)
