#!/usr/bin/env python3
"""Writes the seed corpus of the tensor-file fuzzers (standard library only).

    python3 tests/fuzz/make_corpus.py        (from the repository root)

corpus/npy: small valid .npy files covering every header feature the reader supports
(versions 1.0/2.0/3.0, each dtype, both byte orders, Fortran order, 0-d, empty, odd
header spacing). corpus/safetensors: small valid files covering every convertible dtype,
metadata, empty and 0-d tensors, header padding and an unsupported dtype. Both fuzzers and
the always-on replay test (tests/quant/tensor_io_fuzz_replay_test.cpp) start from these.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(sub, name, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(header, data, major=1, pad=True):
    if pad:  # NumPy's layout: spaces and '\n' so the data starts at a multiple of 64
        prefix = 8 + (2 if major == 1 else 4)
        total = prefix + len(header) + 1
        header = header + " " * ((64 - total % 64) % 64) + "\n"
    size = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + size + header.encode("utf8") + data


def d(descr, shape, fortran=False):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)


f4 = struct.pack("<6f", -1, -0.5, 0, 0.5, 1, 1.5)
write("npy", "f4_2x3.npy", npy(d("<f4", "(2, 3)"), f4))
write("npy", "f4_v2.npy", npy(d("<f4", "(3, 2)"), f4, major=2))
write("npy", "f4_v3.npy", npy(d("<f4", "(6,)"), f4, major=3))
write("npy", "f4_fortran.npy", npy(d("<f4", "(2, 3)", True), f4))
write("npy", "f4_3d_fortran.npy", npy(d("<f4", "(1, 2, 3)", True), f4))
write("npy", "f4_scalar.npy", npy(d("<f4", "()"), struct.pack("<f", 3.5)))
write("npy", "f4_empty.npy", npy(d("<f4", "(0, 4)"), b""))
write("npy", "be_f4.npy", npy(d(">f4", "(2,)"), struct.pack(">2f", 1.5, float("nan"))))
write("npy", "f2.npy", npy(d("<f2", "(4,)"), struct.pack("<4H", 0x3C00, 0x7BFF, 0x0001, 0xFC00)))
write("npy", "be_f2.npy", npy(d(">f2", "(2, 1)"), struct.pack(">2H", 0x3555, 0x8000)))
write("npy", "f8.npy", npy(d("<f8", "(2,)"), struct.pack("<2d", 0.1, 1e300)))
write("npy", "be_f8.npy", npy(d(">f8", "(1,)"), struct.pack(">d", -2.25)))
write("npy", "i2_bf16.npy", npy(d("<i2", "(2, 2)"), struct.pack("<4H", 0x3F80, 0xC000, 0x3F00, 0x4049)))
write("npy", "u2_bf16.npy", npy(d(">u2", "(2,)"), struct.pack(">2H", 0x3F80, 0x7FC1)))
write("npy", "odd_spacing.npy",
      npy(" {\"shape\" :( 2 ,3L ,),'descr':\"<f4\" ,\n'fortran_order':False}", f4, pad=False))


def st(tensors, data, metadata=None, pad=8):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, begin, end in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}
    text = json.dumps(header, separators=(",", ":")).encode("utf8")
    text += b" " * ((pad - len(text) % pad) % pad)
    return struct.pack("<Q", len(text)) + text + data


write("safetensors", "f32_meta.safetensors",
      st([("w", "F32", [2, 2], 0, 16)], struct.pack("<4f", 1, -2, 0.5, 3), {"format": "pt"}))
write("safetensors", "all_dtypes.safetensors",
      st([("a", "F32", [2], 0, 8), ("b", "F16", [2], 8, 12), ("c", "BF16", [2, 1], 12, 16),
          ("d", "F64", [], 16, 24), ("e", "F8_E4M3", [3], 24, 27), ("f", "F8_E5M2", [1], 27, 28)],
         struct.pack("<2f", 1.5, -0.0) + struct.pack("<2H", 0x3555, 0xFC00)
         + struct.pack("<2H", 0x4049, 0x7FC1) + struct.pack("<d", 0.1) + bytes([0x7E, 0x01, 0xB8, 0x7C])))
write("safetensors", "empty_scalar.safetensors",
      st([("empty", "F32", [0, 3], 0, 0), ("s", "F32", [], 0, 4), ("z", "BF16", [0], 4, 4)],
         struct.pack("<f", 2.5), {"a": "b", "c": ""}, pad=1))
write("safetensors", "unsupported.safetensors",
      st([("w", "F32", [1], 0, 4), ("pos", "I64", [1], 4, 12)], struct.pack("<fq", 1.0, 7)))
write("safetensors", "unordered.safetensors",
      st([("b", "F32", [1], 4, 8), ("a", "F16", [2], 0, 4)], struct.pack("<2Hf", 0x3C00, 0x0001, 9.0)))
