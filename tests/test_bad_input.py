"""Every argument torch rejects is rejected, with a ValueError naming it and its range, early."""

import math
import re

import numpy as np
import pytest
import torch
from conftest import TORCH_NAMES

from course_lib import optim, rules
from course_lib.arrays import ArrayOptimizer

NAN = math.nan

# (optimizer, argument, bad value, what the message must say about the allowed range)
BAD_VALUES = [
    *[(name, "lr", -0.1, "lr must be >= 0") for name in TORCH_NAMES + ["Yogi"]],
    *[(name, "lr", NAN, "lr must be >= 0") for name in TORCH_NAMES[1:] + ["Yogi"]],
    *[(name, "weight_decay", -0.5, "weight_decay must be >= 0") for name in TORCH_NAMES],
    *[(name, "eps", -1e-8, "eps must be >= 0")
      for name in ["Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "RAdam",
                   "Yogi"]],
    ("SGD", "momentum", -0.5, "momentum must be >= 0"),
    ("RMSprop", "momentum", -1.0, "momentum must be >= 0"),
    ("RMSprop", "alpha", -0.1, "alpha must be >= 0"),
    ("Adadelta", "rho", 1.1, "rho must be in [0, 1]"),
    ("Adadelta", "rho", -0.1, "rho must be in [0, 1]"),
    ("Adagrad", "lr_decay", -0.5, "lr_decay must be >= 0"),
    ("Adagrad", "initial_accumulator_value", -1.0, "initial_accumulator_value must be >= 0"),
    ("NAdam", "momentum_decay", -0.2, "momentum_decay must be >= 0"),
    *[(name, "betas", betas, f"betas[{index}] must be in [0, 1)")
      for name in ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Yogi"]
      for betas, index in [((1.0, 0.999), 0), ((-0.1, 0.999), 0), ((0.9, 1.0), 1),
                           ((0.9, 1.5), 1), ((NAN, 0.999), 0)]],
    ("Adam", "betas", (0.9, torch.tensor(0.99)), "both floats or both Tensors"),
    ("Adam", "lr", torch.tensor([1e-3, 1e-3]), "Tensor lr must be 1-element"),
]

# Where course_lib is stricter than torch, which accepts these values.
STRICTER_THAN_TORCH = [
    ("RMSprop", "alpha", 1.5, "alpha must be in [0, 1]"),
    ("SGD", "lr", NAN, "lr must be >= 0"),  # torch's SGD tests lr < 0, which NaN passes
]


CASE_FIELDS = ("name", "argument", "value", "expected")


def _ids(cases):
    return [f"{n}-{a}={v!r}" for n, a, v, _ in cases]


@pytest.mark.parametrize(CASE_FIELDS, BAD_VALUES, ids=_ids(BAD_VALUES))
def test_torch_rejects_and_so_do_we(name, argument, value, expected):
    params = [torch.zeros(2, requires_grad=True)]
    if name != "Yogi":
        with pytest.raises(ValueError):
            getattr(torch.optim, name)(params, **{argument: value})
    with pytest.raises(ValueError, match=re.escape(expected)) as info:
        getattr(optim, name)(params, **{argument: value})
    assert argument.split("[")[0] in str(info.value)


@pytest.mark.parametrize(CASE_FIELDS, BAD_VALUES, ids=_ids(BAD_VALUES))
@pytest.mark.parametrize("front_end", ["rule", "array optimizer", "get"])
def test_every_front_end_rejects_the_same_values(front_end, name, argument, value, expected):
    if torch.is_tensor(value) or isinstance(value, tuple) and any(map(torch.is_tensor, value)):
        pytest.skip("tensor hyperparameters belong to the torch optimizers")
    build = {
        "rule": lambda: rules.make(name, **{argument: value}),
        "array optimizer": lambda: ArrayOptimizer(name.lower(), **{argument: value}),
        "get": lambda: optim.get(name, **{argument: value}),
    }[front_end]
    with pytest.raises(ValueError, match=re.escape(expected)):
        build()


@pytest.mark.parametrize(("name", "argument", "value", "expected"), STRICTER_THAN_TORCH,
                         ids=_ids(STRICTER_THAN_TORCH))
def test_stricter_than_torch(name, argument, value, expected):
    params = [torch.zeros(2, requires_grad=True)]
    getattr(torch.optim, name)(params, **{argument: value})  # torch accepts it
    with pytest.raises(ValueError, match=re.escape(expected)):
        getattr(optim, name)(params, **{argument: value})


@pytest.mark.parametrize(
    "options",
    [{"nesterov": True}, {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
     {"nesterov": True, "momentum": 0.0}],
    ids=["no momentum", "dampening", "zero momentum"],
)
def test_nesterov_needs_momentum_and_no_dampening(options):
    params = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero"):
        torch.optim.SGD(params, **options)
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0 and dampening == 0"):
        optim.SGD(params, **options)


@pytest.mark.parametrize("name", TORCH_NAMES + ["Yogi"])
def test_params_must_be_an_iterable_of_tensors(name):
    cls = getattr(optim, name)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        getattr(torch.optim, name, cls)(torch.zeros(2, requires_grad=True))
    # torch's TypeError and its words, then what to do about it
    with pytest.raises(TypeError, match=r"should be an iterable of Tensors or dicts.*"
                                        rf"Wrap it in a list: {name}\(\[w\], \.\.\.\)"):
        cls(torch.zeros(2, requires_grad=True))
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([])
    with pytest.raises(TypeError, match="ordered collections"):
        cls([{"params": {torch.zeros(2, requires_grad=True)}}])


@pytest.mark.parametrize("name", TORCH_NAMES + ["Yogi"])
def test_bad_group_hyperparameters_are_rejected_before_the_group_is_added(name):
    weights, extra = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
    opt = getattr(optim, name)([weights])
    groups_before = len(opt.param_groups)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.add_param_group({"params": [extra], "lr": -1.0})
    assert len(opt.param_groups) == groups_before
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        getattr(optim, name)([{"params": [weights], "weight_decay": -1.0}])


def test_unknown_optimizer_name_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamz'.*adam, adamw"):
        optim.get("adamz")
    with pytest.raises(ValueError, match=r"unknown optimizer 'adamm'; did you mean 'adam'\?"):
        optim.get("adamm")
    with pytest.raises(ValueError, match=r"did you mean 'rmsprop'\?"):
        optim.get("RMSProp_", [torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="unknown optimizer 'Momentum'"):
        optim.get("Momentum", [torch.zeros(1, requires_grad=True)])
    with pytest.raises(TypeError, match="must be a string"):
        optim.get(3)


def test_sgd_has_no_lr_decay_as_in_torch():
    """The seed article passes lr_decay to SGD; only Adagrad has it, in torch and here."""
    params = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr_decay'"):
        torch.optim.SGD(params, lr=0.1, lr_decay=0.01)
    advice = r"lr_decay is an argument of Adagrad only.*use a schedule"
    with pytest.raises(TypeError, match="unexpected keyword argument 'lr_decay'.*" + advice):
        optim.SGD(params, lr=0.1, lr_decay=0.01)
    with pytest.raises(TypeError, match="unexpected hyperparameter.*lr_decay.*" + advice):
        optim.get("sgd", lr=0.1, lr_decay=0.01)
    with pytest.raises(TypeError, match=advice):
        ArrayOptimizer("adam", lr_decay=0.01)
    optim.Adagrad(params, lr=0.1, lr_decay=0.01)  # where it belongs


@pytest.mark.parametrize(("name", "argument", "advice"), [
    ("Adam", "learning_rate", "torch's name for the learning rate is lr"),
    ("Adam", "epsilon", "torch's name for epsilon is eps"),
    ("Adam", "beta_1", r"betas=\(beta_1, beta_2\)"),
    ("RMSprop", "rho", "torch's RMSprop calls the decay rate alpha"),
    ("SGD", "clipnorm", "clip_grad_norm_"),
    ("SGD", "momentun", "Did you mean 'momentum'"),
    ("Adam", "amsgard", "Did you mean 'amsgrad'"),
    ("Adadelta", "zzz", "Adadelta takes: lr, rho, eps, weight_decay, maximize"),
])
def test_an_unknown_argument_says_what_to_write(name, argument, advice):
    params = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{argument}'") as torchs:
        getattr(torch.optim, name)(params, **{argument: 0.5})
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{argument}'.*{advice}"):
        getattr(optim, name)(params, **{argument: 0.5})
    assert "unexpected keyword argument" in str(torchs.value)
    with pytest.raises(TypeError, match=advice):
        optim.get(name, **{argument: 0.5})


def test_rho_is_right_for_adadelta():
    optim.Adadelta([torch.zeros(2, requires_grad=True)], rho=0.5)


@pytest.mark.parametrize("value", ["0.1", None, True, [0.1]])
def test_non_numbers_are_type_errors(value):
    with pytest.raises(TypeError, match="lr must be a real number"):
        rules.Adam(lr=value)


def test_torchs_own_error_inputs():
    """Run torch's ErrorOptimizerInput sets (common_optimizers.py) against course_lib."""
    common = pytest.importorskip("torch.testing._internal.common_optimizers")
    impl_flags = {"foreach", "fused", "capturable", "differentiable"}
    checked = 0
    for info in common.optim_db:
        name = info.optim_cls.__name__
        if name not in TORCH_NAMES:
            continue
        for error_input in info.optim_error_inputs_func(device="cpu", dtype=torch.float32):
            inp = error_input.optimizer_error_input
            if impl_flags & set(inp.kwargs) or error_input.error_on.name != "CONSTRUCTION_ERROR":
                continue
            params = inp.params if inp.params is not None else [
                torch.zeros(2, requires_grad=True)
            ]
            if issubclass(error_input.error_type, Warning):
                with pytest.warns(error_input.error_type, match=error_input.error_regex):
                    getattr(optim, name)(params, **inp.kwargs)
            else:
                with pytest.raises(error_input.error_type, match=error_input.error_regex):
                    getattr(optim, name)(params, **inp.kwargs)
            checked += 1
    assert checked >= 50


# -- the array optimizer: mismatches are caught before anything changes ------------------------


def _snapshot(opt, arrays):
    return [a.copy() for a in arrays], [dict(opt.state_of(a)) for a in arrays]


@pytest.mark.parametrize(
    ("grads", "error", "message"),
    [
        ({"w": np.ones(3)}, ValueError, "no gradient for 'b'"),
        ({"w": np.ones(3), "b": np.ones(2), "c": np.ones(1)}, ValueError,
         "gradients for unknown parameters 'c'"),
        ({"w": np.ones(3), "b": np.ones(3)}, ValueError,
         r"the gradient for params\['b'\] has shape \(3,\), but the parameter has shape \(2,\)"),
        ({"w": np.ones(3), "b": np.array(["a", "b"])}, TypeError, "not numeric"),
    ],
    ids=["missing key", "extra key", "wrong shape", "not numeric"],
)
def test_array_optimizer_rejects_mismatches_before_changing_anything(grads, error, message):
    params = {"w": np.zeros(3), "b": np.zeros(2)}
    opt = ArrayOptimizer("adam", lr=0.1)
    opt.update(params, {"w": np.ones(3), "b": np.ones(2)})
    before_arrays, before_state = _snapshot(opt, params.values())
    with pytest.raises(error, match=message):
        opt.update(params, grads)
    after_arrays, after_state = _snapshot(opt, params.values())
    assert all(np.array_equal(a, b) for a, b in zip(before_arrays, after_arrays, strict=True))
    for old, new in zip(before_state, after_state, strict=True):
        assert old["step"] == new["step"]
    assert opt.iterations == 1


@pytest.mark.parametrize(
    ("param", "error", "message"),
    [
        (np.zeros(2, dtype=int), TypeError, "floating-point numpy array"),
        ([0.0, 1.0], TypeError, "floating-point numpy array"),
        (3.0, TypeError, "floating-point numpy array"),
    ],
    ids=["int array", "list", "float"],
)
def test_array_optimizer_needs_float_arrays(param, error, message):
    opt = ArrayOptimizer("sgd", lr=0.1)
    with pytest.raises(error, match=message):
        opt.apply_gradients([(np.ones(2), param)])


def test_array_optimizer_rejects_read_only_and_repeated_arrays():
    opt = ArrayOptimizer("sgd", lr=0.1)
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        opt.apply_gradients([(np.ones(2), frozen)])
    twice = np.zeros(2)
    with pytest.raises(ValueError, match="appears twice"):
        opt.apply_gradients([(np.ones(2), twice), (np.ones(2), twice)])
    with pytest.raises(ValueError, match=r"\(gradient, variable\) pairs"):
        opt.apply_gradients([np.ones(2)])
    assert np.array_equal(twice, np.zeros(2))


def test_newton_is_not_an_array_optimizer():
    with pytest.raises(TypeError, match="needs a Hessian"):
        ArrayOptimizer(rules.Newton())
    with pytest.raises(ValueError, match="unknown optimizer 'newton'"):
        optim.get("newton")
