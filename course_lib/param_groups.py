"""Parameter groups the way practitioners build them: no weight decay on biases and norms.

Weight decay pulls weights towards zero. On a bias or on the scale of a normalisation layer
that pull has no regularising purpose (they do not multiply inputs, or are meant to stay near 1),
so the usual recipe decays only the weight matrices. :func:`parameter_groups` splits a model's
trainable parameters into such groups, optionally with per-group learning rates, in the format
every ``torch.optim`` optimizer (and every ``course_lib.optim`` one) takes.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
>>> groups = parameter_groups(model, weight_decay=0.1)
>>> [(g["weight_decay"], g["names"]) for g in groups]
[(0.1, ['0.weight']), (0.0, ['0.bias', '1.weight', '1.bias'])]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

__all__ = ["NORM_LAYERS", "is_bias_or_norm", "parameter_groups"]

#: Module types whose weights are scales of a normalisation, never decayed by default.
NORM_LAYERS: tuple[type[torch.nn.Module], ...] = (
    torch.nn.modules.batchnorm._NormBase,
    torch.nn.LayerNorm,
    torch.nn.GroupNorm,
    torch.nn.RMSNorm,
)


def is_bias_or_norm(name: str, module: torch.nn.Module, param: torch.nn.Parameter) -> bool:
    """The default no-decay rule: biases, and every parameter of a normalisation layer."""
    return name.rsplit(".", 1)[-1] == "bias" or isinstance(module, NORM_LAYERS)


def parameter_groups(
    model: torch.nn.Module,
    weight_decay: float,
    *,
    lr_by_prefix: Mapping[str, float] | None = None,
    no_decay: Callable[[str, torch.nn.Module, torch.nn.Parameter], bool] = is_bias_or_norm,
) -> list[dict[str, Any]]:
    """Split ``model``'s trainable parameters into optimizer groups.

    Args:
        model: any ``torch.nn.Module``; parameters with ``requires_grad=False`` are left out.
        weight_decay: the decay of the decayed group (the others get 0.0).
        lr_by_prefix: learning rates for parameters whose qualified name starts with a prefix
            (``{"0.": 1e-4}`` for the first layer of a Sequential); the longest matching
            prefix wins; parameters matching none use the optimizer's ``lr``.
        no_decay: ``(name, module, param) -> bool``, True for parameters not to decay.

    Returns:
        A list of groups ``{"params": [...], "weight_decay": ..., ["lr": ...], "names": [...]}``
        in order of first appearance; every trainable parameter is in exactly one group.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, int | float) \
            or not weight_decay >= 0:
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    prefixes = dict(lr_by_prefix or {})
    for prefix, lr in prefixes.items():
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not lr >= 0:
            raise ValueError(f"lr_by_prefix[{prefix!r}] must be a number >= 0, got {lr!r}")

    groups: dict[tuple[bool, float | None], dict[str, Any]] = {}
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for param_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue
            seen.add(id(param))
            name = f"{module_name}.{param_name}" if module_name else param_name
            decay = not no_decay(name, module, param)
            matches = [p for p in prefixes if name.startswith(p)]
            lr = prefixes[max(matches, key=len)] if matches else None
            group = groups.setdefault((decay, lr), {
                "params": [],
                "weight_decay": float(weight_decay) if decay else 0.0,
                **({"lr": lr} if lr is not None else {}),
                "names": [],
            })
            group["params"].append(param)
            group["names"].append(name)
    unused = [p for p in prefixes if not any(p and n.startswith(p) for g in groups.values()
                                             for n in g["names"])]
    if unused:
        raise ValueError(f"lr_by_prefix has prefixes that match no parameter: {unused}")
    return list(groups.values())
