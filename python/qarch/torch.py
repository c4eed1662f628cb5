"""PyTorch helpers: evaluate a model (perplexity, lm-eval) with qarch's bit-exact formats.

    import torch, qarch.torch as qt
    y = qt.fake_quant(t, "olive4")                       # a tensor, same dtype and device
    handles = qt.quantize_linear_layers(model, act="mxfp4", weight="mxfp4")
    ... evaluate ...
    qt.remove(handles)                                   # the original weights come back

Tensors go through the CPU and float32 (the formats are C++ code); the result returns to the
input's device and dtype, so expect evaluation-speed, not training-speed, fake quantization.
"""
import numpy as np
import torch

from . import fake_quant as _fake_quant

__all__ = ["fake_quant", "quantize_linear_layers", "remove"]


def fake_quant(t, format, axis=-1):
    """decode(encode(t)) in `format` along `axis` (default the last: in_features)."""
    q = _fake_quant(t.detach().to("cpu", torch.float32).numpy(), format, axis)
    return torch.from_numpy(np.ascontiguousarray(q)).to(device=t.device, dtype=t.dtype)


class _Handle:
    def __init__(self, module, weight, hook):
        self.module, self.weight, self.hook = module, weight, hook


def quantize_linear_layers(model, act=None, weight=None, skip=("lm_head",)):
    """Fake-quantizes every nn.Linear of `model` whose name does not end with one of `skip`:
    its weight once, in place ([out, in], groups and pairs along in), and its input on every
    call (a forward pre-hook, along the last axis). `act` or `weight` None leaves that operand
    in full precision. Returns handles for remove()."""
    handles = []
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear) or any(name.endswith(s) for s in skip):
            continue
        saved = None
        if weight is not None:
            saved = mod.weight.data.clone()
            mod.weight.data.copy_(fake_quant(mod.weight.data, weight))
        hook = None
        if act is not None:
            hook = mod.register_forward_pre_hook(
                lambda m, args, fmt=act: (fake_quant(args[0], fmt),) + tuple(args[1:]))
        handles.append(_Handle(mod, saved, hook))
    return handles


def remove(handles):
    """Undoes quantize_linear_layers: original weights back, input hooks removed."""
    for h in handles:
        if h.weight is not None:
            h.module.weight.data.copy_(h.weight)
        if h.hook is not None:
            h.hook.remove()
