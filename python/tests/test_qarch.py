"""Tests of the qarch Python package: bit equality with the qarch command line, axis handling,
encode/decode, clear errors, and the PyTorch helpers (skipped without torch unless
QARCH_REQUIRE_TORCH=1). Run by CTest (label python) with PYTHONPATH=build/python."""
import os
import subprocess
import tempfile
import unittest

import numpy as np

import qarch


def outlier_tensor(rows, cols, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    x[:, 3] *= 40.0  # an outlier channel
    return x


class Formats(unittest.TestCase):
    def test_every_format_is_listed_with_a_canonical_spec(self):
        names = {f["name"] for f in qarch.formats()}
        for n in ("int8", "mxfp4", "olive4", "ant4", "adaptivfloat8", "dgq4", "nvfp4"):
            self.assertIn(n, names)
        self.assertEqual(qarch.canonical("mxfp4"), "mxfp4:block=32:round=even")

    def test_bad_specs_and_values_raise_value_error_with_the_message(self):
        with self.assertRaisesRegex(ValueError, "unknown format 'nosuch'"):
            qarch.fake_quant(np.ones((2, 4), np.float32), "nosuch")
        with self.assertRaisesRegex(ValueError, "NaN"):
            qarch.fake_quant(np.array([[1.0, np.nan]], np.float32), "int8")
        with self.assertRaisesRegex(ValueError, "unknown option 'blok'"):
            qarch.fake_quant(np.ones((2, 4), np.float32), "mxfp4:blok=16")


class Quantize(unittest.TestCase):
    def test_bit_identical_to_the_command_line(self):
        # The same tensor through `qarch quant --dequant-out` and through the module.
        x = outlier_tensor(16, 96, 1)
        binary = os.environ.get("QARCH_BIN", "build/bin/qarch")
        specs = ["int4:group=32", "mxfp4", "olive4", "ant4", "adaptivfloat8", "nvfp4"]
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), x)
            subprocess.run([binary, "quant", "--input", os.path.join(d, "x.npy"), "--formats",
                            ",".join(specs), "--dequant-out", d], check=True,
                           stdout=subprocess.DEVNULL)
            for s in specs:
                cli = np.load(os.path.join(d, s.replace(":", "_") + ".npy"))
                fused = qarch.fake_quant(x, s)
                stored = qarch.quantize(x, s).dequantize()
                self.assertEqual(fused.dtype, np.float32)
                self.assertEqual(cli.tobytes(), fused.tobytes(), s)
                self.assertEqual(cli.tobytes(), stored.tobytes(), s)

    def test_axis_and_shape(self):
        x = outlier_tensor(8, 64, 2)
        # A 3-D tensor is quantized along its last axis with leading axes flattened.
        x3 = x.reshape(2, 4, 64)
        self.assertEqual(qarch.fake_quant(x3, "mxfp4").tobytes(),
                         qarch.fake_quant(x, "mxfp4").tobytes())
        self.assertEqual(qarch.quantize(x3, "mxfp4").dequantize().shape, (2, 4, 64))
        # axis=0 quantizes the transpose and returns the input's layout.
        for q0 in (qarch.fake_quant(x.T, "mxfp4", axis=0),
                   qarch.quantize(x.T, "mxfp4", axis=0).dequantize()):
            self.assertEqual(q0.shape, x.T.shape)
            np.testing.assert_array_equal(q0, qarch.fake_quant(x, "mxfp4").T)
        # float64 and non-contiguous inputs are accepted (converted to float32).
        np.testing.assert_array_equal(qarch.fake_quant(x.astype(np.float64), "int8"),
                                      qarch.fake_quant(x, "int8"))

    def test_the_stored_form(self):
        x = outlier_tensor(4, 64, 3)
        q = qarch.quantize(x, "mxfp4")
        self.assertEqual(q.format, "mxfp4:block=32:round=even")
        self.assertEqual(q.codes.shape, (4, 64))
        self.assertLess(int(q.codes.max()), 16)                  # 4-bit E2M1 codes
        self.assertEqual(q.scales.shape, (4 * 2,))               # one E8M0 scale per 32
        self.assertAlmostEqual(q.bits_per_element, 4 + 8 / 32)
        self.assertEqual(qarch.traits("mxfp4")["element"], "e2m1")
        st = q.stats
        self.assertGreater(st["qsnr_db"], 5.0)
        self.assertEqual(st["qsnr_db"], qarch.compare(x, q.dequantize())["qsnr_db"])
        # OliVe's per-row scales are the FP32 side values.
        self.assertEqual(qarch.quantize(x, "olive4:per=row").fp32.shape, (4,))

    def test_transforms_keep_the_product(self):
        x, w = outlier_tensor(8, 64, 5), outlier_tensor(16, 64, 6)
        xs, ws = qarch.transform(x, w, "smooth:alpha=0.5,hadamard")
        np.testing.assert_allclose(xs @ ws.T, x @ w.T, rtol=1e-4, atol=1e-2)
        # The outlier channel is spread: the largest |value| drops.
        self.assertLess(np.abs(xs).max(), 0.5 * np.abs(x).max())
        with self.assertRaisesRegex(ValueError, "unknown transform"):
            qarch.transform(x, w, "rotate")


def torch_or_skip(test):
    try:
        import torch  # noqa: F401
    except ImportError:
        if os.environ.get("QARCH_REQUIRE_TORCH") == "1":
            raise
        raise unittest.SkipTest("PyTorch is not installed (python3-torch)")


class Torch(unittest.TestCase):
    def setUp(self):
        torch_or_skip(self)

    def test_fake_quant_keeps_dtype_device_and_bits(self):
        import torch
        import qarch.torch as qt
        x = outlier_tensor(8, 64, 4)
        t = torch.from_numpy(x).to(torch.float64)
        q = qt.fake_quant(t, "olive4")
        self.assertEqual(q.dtype, torch.float64)
        np.testing.assert_array_equal(q.to(torch.float32).numpy(), qarch.fake_quant(x, "olive4"))

    def test_linear_layers_see_quantized_weights_and_inputs_and_restore(self):
        import torch
        import qarch.torch as qt
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16))
        x = torch.randn(5, 64)
        ref = model(x)
        w0 = model[0].weight.detach().clone()
        h = qt.quantize_linear_layers(model, act="mxfp4", weight="int4:per=row")
        y = model(x)
        # Layer 0 by hand: quantized input times quantized weight.
        xq = torch.from_numpy(qarch.fake_quant(x.numpy(), "mxfp4"))
        wq = torch.from_numpy(qarch.fake_quant(w0.numpy(), "int4:per=row"))
        h0 = torch.nn.functional.linear(xq, wq, model[0].bias)
        hq = torch.from_numpy(qarch.fake_quant(torch.relu(h0).detach().numpy(), "mxfp4"))
        wq1 = torch.from_numpy(qarch.fake_quant(h[1].weight.numpy(), "int4:per=row"))
        y_hand = torch.nn.functional.linear(hq, wq1, model[2].bias)
        torch.testing.assert_close(y, y_hand, rtol=0, atol=1e-6)
        self.assertFalse(torch.equal(y, ref))
        qt.remove(h)
        torch.testing.assert_close(model(x), ref, rtol=0, atol=0)


class Example(unittest.TestCase):
    def setUp(self):
        torch_or_skip(self)

    def test_perplexity_script_runs_and_int8_barely_moves_it(self):
        import importlib.util
        here = os.path.dirname(os.path.abspath(__file__))
        spec = importlib.util.spec_from_file_location(
            "perplexity", os.path.join(here, "..", "examples", "perplexity.py"))
        ex = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ex)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.txt")
            with open(path, "w") as f:
                f.write("the quick brown fox jumps over the lazy dog. " * 40)
            r = ex.main(["--text", path, "--formats", "int8,int2", "--ctx", "32"])
        self.assertTrue(np.isfinite(r["fp32"]))
        self.assertLess(abs(r["int8"] / r["fp32"] - 1), 0.05)
        self.assertNotEqual(r["int2"], r["fp32"])


if __name__ == "__main__":
    unittest.main()
