"""qarch's bit-exact quantization formats for Python and PyTorch.

The formats are the C++ library behind the ``qarch`` command line (quant/), so a tensor
quantized here is bit for bit what ``qarch quant`` and the simulator use. Typical use:

    import numpy as np, qarch
    q = qarch.quantize(x, "mxfp4")              # fake quantization, float32, same shape
    print(qarch.compare(x, q)["qsnr_db"])
    qarch.formats()                              # every format, with its source

For PyTorch models see ``qarch.torch`` (``fake_quant``, ``quantize_linear_layers``).

The reduction axis (along which blocks, groups and outlier-victim pairs run) is the last axis
unless ``axis`` says otherwise: for a weight ``[out_features, in_features]`` and an activation
``[..., in_features]`` the default is right.
"""
import numpy as np

from ._qarch import QarchError, canonical, compare as _compare, decode, encode as _encode
from ._qarch import formats, quantize as _quantize

__all__ = ["QarchError", "canonical", "compare", "decode", "encode", "formats", "quantize"]


def _last(x, axis):
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 0:
        return a, False
    ax = axis % a.ndim
    moved = ax != a.ndim - 1
    return (np.ascontiguousarray(np.moveaxis(a, ax, -1)) if moved else np.ascontiguousarray(a)), moved


def quantize(x, format, axis=-1):
    """decode(encode(x)) in `format` (a spec such as "int4:group=128"); float32, x's shape."""
    a, moved = _last(x, axis)
    q = _quantize(a, format)
    return np.moveaxis(q, -1, axis % q.ndim) if moved else q


def encode(x, format, axis=-1):
    """The stored form of x: a dict with format, rows, cols, elements, scales, fp32, indices."""
    a, _ = _last(x, axis)
    return _encode(a, format)


def compare(x, q):
    """Error metrics of q against x (same number of elements): qsnr_db, mse, max_abs_err, ..."""
    return _compare(np.asarray(x, dtype=np.float32), np.asarray(q, dtype=np.float32))
