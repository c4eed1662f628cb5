"""qarch's bit-exact quantization formats for Python and PyTorch.

The formats are the C++ library behind the ``qarch`` command line (quant/), so a tensor
quantized here is bit for bit what ``qarch quant`` and the simulator use:

    import numpy as np, qarch
    q = qarch.quantize(x, "olive4:per=row")     # a Quantized: the stored form
    y = q.dequantize()                           # float32, x's shape
    q.codes, q.scales, q.bits_per_element, q.stats
    qarch.fake_quant(x, "mxfp4")                 # the same as quantize(...).dequantize()
    qarch.formats()                              # every format, with its source
    xs, ws = qarch.transform(x, w, "smooth:alpha=0.5,hadamard")

For PyTorch models see ``qarch.torch`` (``fake_quant``, ``quantize_linear_layers``).

The reduction axis (along which blocks, groups and outlier-victim pairs run) is the last axis
unless ``axis`` says otherwise: for a weight ``[out_features, in_features]`` and an activation
``[..., in_features]`` the default is right.
"""
import numpy as np

from . import _qarch
from ._qarch import QarchError, canonical, formats, traits

__all__ = ["QarchError", "Quantized", "canonical", "compare", "fake_quant", "formats",
           "quantize", "traits", "transform"]


def _last(x, axis):
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 0:
        return a.reshape(1), None
    ax = axis % a.ndim
    if ax == a.ndim - 1:
        return np.ascontiguousarray(a), None
    return np.ascontiguousarray(np.moveaxis(a, ax, -1)), ax


class Quantized:
    """A tensor in a qarch format, as the hardware stores it."""

    def __init__(self, x, format, axis=-1):
        a, self._moved = _last(x, axis)
        self._shape = np.shape(x)
        self._moved_shape = a.shape
        self.format = canonical(format)
        self.encoded = _qarch.encode(a, self.format)
        self._x = a

    def dequantize(self):
        """The decoded values, float32, in the input's shape and axis order."""
        q = _qarch.decode(self.encoded).reshape(self._moved_shape)
        if self._moved is not None:
            q = np.moveaxis(q, -1, self._moved)
        return q.reshape(self._shape)

    @property
    def codes(self):
        """Element codes, one per element, [rows, cols] with cols along the reduction axis."""
        return _qarch.codes(self.encoded, traits(self.format)["element_bits"])

    @property
    def scales(self):
        """Packed scale codes (E8M0, E4M3, BFP exponents, zero points...) as uint8."""
        return np.frombuffer(self.encoded["scales"], dtype=np.uint8)

    @property
    def fp32(self):
        """FP32 side values: tensor, row or channel scales, centroids, outliers."""
        return self.encoded["fp32"]

    @property
    def bits_per_element(self):
        """Storage bits (codes, scales and side data) per element."""
        n = max(1, self.encoded["rows"] * self.encoded["cols"])
        return self.encoded["storage_bits"] / n

    @property
    def stats(self):
        """Error of the decoded values against the input: qsnr_db, mse, max_abs_err, cosine."""
        return _qarch.compare(self._x, _qarch.decode(self.encoded))


def quantize(x, format, axis=-1):
    """Encodes x in `format` (a spec such as "int4:group=128"); see Quantized."""
    return Quantized(x, format, axis)


def fake_quant(x, format, axis=-1):
    """decode(encode(x)) in `format`, float32, x's shape (the fused fast path)."""
    a, moved = _last(x, axis)
    q = _qarch.quantize(a, format)
    if moved is not None:
        q = np.moveaxis(q, -1, moved)
    return q.reshape(np.shape(x))


def compare(x, q):
    """Error metrics of q against x (same number of elements): qsnr_db, mse, max_abs_err, ..."""
    return _qarch.compare(np.asarray(x, dtype=np.float32), np.asarray(q, dtype=np.float32))


def transform(x, w, pipeline):
    """Outlier transforms (SmoothQuant smoothing, Hadamard rotation) of X [M, K] and W [N, K],
    keeping X W^T: returns (X', W')."""
    return _qarch.transform(np.asarray(x, np.float32), np.asarray(w, np.float32), pipeline)
