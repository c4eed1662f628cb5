#!/usr/bin/python3
"""Regenerates the reference .npy files in this folder with NumPy's own writer.

tensor_io_test.cpp reads these files and checks every value, and checks that
qarch's encode_npy() writes byte-identical files for the float32 C-order ones:
they are the outside reference for qarch's .npy reader and writer. Generated with
NumPy 1.24.2 (Debian python3-numpy); every value is exactly representable in its
dtype so the tests can state them exactly.

    /usr/bin/python3 tests/quant/data/make_npy_data.py   (from the repository root)
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, array, version=None):
    path = os.path.join(HERE, name)
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


# float32, C order: written by np.save exactly as qarch's writer must write them.
save("np_f4_2x3.npy", (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1).astype("<f4"))
save("np_f4_5.npy", np.arange(1, 6, dtype="<f4") * np.float32(0.25))
save("np_f4_scalar.npy", np.array(3.5, dtype="<f4"))
save("np_f4_0x4.npy", np.zeros((0, 4), dtype="<f4"))
# NaN, +Inf, -Inf, -0, the smallest subnormal 2^-149, the largest finite float32.
save("np_f4_special.npy",
     np.array([np.nan, np.inf, -np.inf, -0.0, 2.0**-149, 3.4028234663852886e38], dtype="<f4"))

# Fortran order: element [i, j] = (4 i + j) / 8 - 0.75 (exact in float16).
save("np_f2_fortran_3x4.npy",
     np.asfortranarray((np.arange(12).reshape(3, 4) / 8 - 0.75).astype("<f2")))
# Fortran order, 3-D: element [i, j, k] = 12 i + 4 j + k.
save("np_f4_fortran_2x3x4.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))

# Big-endian.
save("np_be_f4_3.npy", np.array([1.0, -2.0, 0.15625], dtype=">f4"))
save("np_be_f2_4.npy", np.array([1.0, -0.5, 65504.0, 2.0**-24], dtype=">f2"))
save("np_be_f8_2x2.npy", np.array([[1.5, -2.25], [0.1, 1e300]], dtype=">f8"))
save("np_f8_3.npy", np.array([1.5, 0.1, -1e-300], dtype="<f8"))

# Format versions 2.0 and 3.0 (same array as np_f4_2x3.npy).
arr = (np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1).astype("<f4")
save("np_v2_2x3.npy", arr, version=(2, 0))
save("np_v3_2x3.npy", arr, version=(3, 0))

# bfloat16 bit patterns dumped the torch way (t.view(torch.int16).numpy()):
# 1.0 = 0x3F80, -2.0 = 0xC000, 0.5 = 0x3F00, 3.140625 = 0x4049.
bf16 = [0x3F80, 0xC000, 0x3F00, 0x4049]
save("np_i2_bf16_2x2.npy", np.array(bf16, dtype="<u2").view("<i2").reshape(2, 2))
save("np_u2_bf16_4.npy", np.array(bf16, dtype="<u2"))

# Unsupported dtypes (the reader must refuse them with a clear message).
save("np_i4_3.npy", np.array([1, 2, 3], dtype="<i4"))
save("np_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
