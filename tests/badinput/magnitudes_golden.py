#!/usr/bin/env python3
"""Prints the expected GGUF bytes of tests/badinput/magnitudes_test.cpp: one 32-element block per
block magnitude, quantized by gguf-py (PyPI "gguf", gguf/quants.py: ggml's NumPy port of
ggml-quants.c). Only magnitudes where ggml's result is defined are printed for a format; the
test states the rest (README "Contracts").

    PYTHONPATH=build/pytools python3 tests/badinput/magnitudes_golden.py
"""
import numpy as np
from gguf import quants
from gguf.constants import GGMLQuantizationType as T

# The test's block: x[j] = m * (k/16 - 1), k = (13 j + 5) mod 33, one FP32 rounding.
PATTERN = np.array([((13 * j + 5) % 33) / 16.0 - 1.0 for j in range(32)], dtype=np.float32)

# Block magnitudes (hex, as the test writes them) whose results ggml defines, per format.
DEFINED = {
    "Q8_0": ["0x1p-149", "0x1p-120", "0x1.4p-100", "0x1p-30", "0x1.2p-18", "0x1p-10", "0x1p+0",
             "0x1.8p+12", "0x1.fbp+22"],
    "Q4_0": ["0x1p-149", "0x1p-124", "0x1.4p-100", "0x1p-30", "0x1.2p-18", "0x1p-10", "0x1p+0",
             "0x1.8p+12", "0x1.fep+18"],
    "MXFP4": ["0x1p-120", "0x1.4p-100", "0x1p-30", "0x1.2p-18", "0x1p-10", "0x1p+0", "0x1.8p+12",
              "0x1.fbp+22", "0x1p+100", "0x1.c3p+127"],
}

for fmt, mags in DEFINED.items():
    for m in mags:
        block = (np.float32(float.fromhex(m)) * PATTERN).astype(np.float32).reshape(1, 32)
        # Q4_0/Q8_0: an overflowing 1/d is where ggml's int8 conversion would be undefined.
        # MXFP4's |d*k - x| may overflow to inf near FLT_MAX: a float compare, still defined.
        with np.errstate(over="raise" if fmt != "MXFP4" else "ignore", invalid="raise"):
            raw = quants.quantize(block, getattr(T, fmt))
        print(f'    {{DType::{fmt}, {m}f, "{bytes(raw.reshape(-1)).hex()}"}},')
