"""Device peaks and the arithmetic of '% of peak' and 'ratio to the best peer'.

Peaks come from xkern's device database (tools/devices/devices.json) when the GPU is in it,
matched by nvidia-smi's product name; otherwise from FALLBACK below, each figure with its
source. Rates are dense (no 2:4 sparsity), 1e12 operations/s, a multiply-add counting 2.

Instruction classes are the database's: int8_mma, f16_mma_f32acc, fp8_mma, fp4_mma, f32_fma.
"""
from __future__ import annotations

import json
import re

# Datasheet figures for GPUs the kit may meet before the database has them. Sparse figures
# in the datasheets are halved to dense.
FALLBACK = {
    "h100-sxm": {
        "name": "NVIDIA H100 SXM5",
        "peak_tops": {"int8_mma": 1978.9, "fp8_mma": 1978.9, "f16_mma_f32acc": 989.4, "f32_fma": 66.9},
        "bandwidth_gbs": 3350.0,
        "source": "NVIDIA H100 Tensor Core GPU datasheet, SXM column: INT8 3,958 TOPS and FP16/BF16 "
                  "1,979 TFLOPS with sparsity (halved), FP32 67 TFLOPS, HBM3 3.35 TB/s",
    },
    "h200": {
        "name": "NVIDIA H200 SXM",
        "peak_tops": {"int8_mma": 1978.9, "fp8_mma": 1978.9, "f16_mma_f32acc": 989.4, "f32_fma": 66.9},
        "bandwidth_gbs": 4800.0,
        "source": "NVIDIA H200 Tensor Core GPU datasheet, SXM column: INT8 3,958 TOPS and FP16/BF16 "
                  "1,979 TFLOPS with sparsity (halved), FP32 67 TFLOPS, HBM3e 4.8 TB/s",
    },
}


def device_key(product_name: str) -> str | None:
    """Database key of an nvidia-smi product name ('NVIDIA H200' -> 'h200'), or None.

    The PCIe and NVL parts run at lower clocks than the SXM figures above, so only names
    that are SXM parts (nvidia-smi names those plainly, or with the HBM size) match.
    """
    n = product_name.upper()
    if re.search(r"\b(PCIE|NVL)\b", n):
        return None
    if re.search(r"\bH200\b", n):
        return "h200"
    if re.search(r"\bH100\b", n):
        return "h100-sxm"
    return None


def load_peaks(product_name: str, db_path: str | None) -> dict | None:
    """{'key', 'peak_tops': {class: Tops}, 'bandwidth_gbs', 'source'} for a GPU, or None."""
    key = device_key(product_name)
    if key is None:
        return None
    if db_path:
        try:
            with open(db_path, encoding="utf-8") as f:
                dev = json.load(f)["devices"].get(key)
        except (OSError, ValueError, KeyError):
            dev = None
        if dev and "peak" in dev and "memory" in dev:
            return {
                "key": key,
                "peak_tops": {c: float(v["value"]) for c, v in dev["peak"].items()},
                "bandwidth_gbs": float(dev["memory"]["bandwidth_theoretical"]["value"]),
                "source": f"device database {db_path}, entry '{key}'",
            }
    fb = FALLBACK[key]
    return {"key": key, "peak_tops": dict(fb["peak_tops"]), "bandwidth_gbs": fb["bandwidth_gbs"], "source": fb["source"]}


def instruction_class(op: str, act: str) -> str:
    """The instruction class a kernel's rate is held against.

    Matmul by activation precision (q8: int8 MMA; f16/bf16: f16 MMA; fp8/fp4: their
    block-scaled MMA; f32: FP32 FMA); attention runs its two products as f16 MMA.
    """
    if op == "attention":
        return "f16_mma_f32acc"
    return {"q8": "int8_mma", "i8": "int8_mma", "f16": "f16_mma_f32acc", "bf16": "f16_mma_f32acc",
            "fp8": "fp8_mma", "fp4": "fp4_mma", "f32": "f32_fma"}.get(act, "f32_fma")


def percent_of_peak(flops: float, bytes_: float, seconds: float, peaks: dict | None, klass: str) -> dict:
    """Achieved rates against the device's peaks.

    pct_peak:     FLOP/s over the class's peak
    pct_bw:       bytes/s over the memory bandwidth
    pct_roofline: FLOP/s over min(class peak, intensity * bandwidth), the bound the
                  kernel's compulsory FLOPs and bytes allow; the honest single figure for
                  a GEMV (bandwidth-bound) and a large GEMM (compute-bound) alike.
    A value is None when the device or the class has no peak.
    """
    out = {"pct_peak": None, "pct_bw": None, "pct_roofline": None}
    if seconds <= 0 or peaks is None:
        return out
    flop_rate, byte_rate = flops / seconds, bytes_ / seconds
    peak = peaks["peak_tops"].get(klass)
    bw = peaks["bandwidth_gbs"] * 1e9
    if peak:
        out["pct_peak"] = 100.0 * flop_rate / (peak * 1e12)
    if bw > 0:
        out["pct_bw"] = 100.0 * byte_rate / bw
    if peak and bw > 0 and bytes_ > 0:
        bound = min(peak * 1e12, flops / bytes_ * bw)
        out["pct_roofline"] = 100.0 * flop_rate / bound
    return out


def ratio_to_best_peer(xk_seconds: float, peer_seconds: list[float]) -> float | None:
    """Best (fastest) peer's time over xkern's time on the same shape: > 1 means xkern is faster."""
    times = [t for t in peer_seconds if t and t > 0]
    if xk_seconds <= 0 or not times:
        return None
    return min(times) / xk_seconds
