#!/usr/bin/env python3
"""PyTorch peers of xkern's kernels, timed on the kit's model shapes (kit_shapes.py).

  matmul     torch._int_mm          int8 x int8 -> int32 (cuBLASLt), X[M,K] @ W[N,K]^T
             torch.matmul f16, bf16 (cuBLAS), same layout
  attention  scaled_dot_product_attention, f16, with the FLASH_ATTENTION and
             CUDNN_ATTENTION backends forced one at a time

Timing: CUDA events around each call after warm-up calls, the median of --reps; a spin
kernel (torch.cuda._sleep) before each timed call keeps the GPU busy while the host enqueues
it, so small kernels are not timed as launch overhead. Like
`xk bench`, the inputs stay the same between calls (no L2 scrub), so both sides of a
comparison see the same cache conditions.

Output: Google Benchmark JSON (what `xk compare` and the gap calibration read), one entry
per (shape, peer):
  name     matmul/custom/M512_N6144_K4096/<w>/<act>/variant=<peer>/torch:cuda:0
           attention/custom/prefill_B1_Hq32_Hkv8_S512_T512_D128_causal/f16/variant=<peer>/torch:cuda:0
  counters flops, bytes, tokens (per call), FLOP/s, bytes/s, tok/s, and pct_peak, pct_bw,
           pct_roofline (peaks.py; absent when the GPU's peaks are unknown)
A peer that cannot run a shape (torch._int_mm needs M > 16) is an entry with
error_occurred and the reason, never a silent gap.

  torch_peers.py --out peers.json [--device-db devices.json] [--reps 30] [--warmup 5]
  torch_peers.py --out peers.json --dry-run      no torch, no GPU: the same JSON, no timings
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kit_shapes  # noqa: E402
import peaks as peaks_mod  # noqa: E402

DEVICE_SEGMENT = "torch:cuda:0"
MATMUL_PEERS = [  # (peer name, weight format, activation precision) as the name writes them
    ("torch_int_mm_cublaslt", "i8", "i8"),
    ("torch_matmul_f16_cublas", "f16", "f16"),
    ("torch_matmul_bf16_cublas", "bf16", "bf16"),
]
ATTENTION_PEERS = ["sdpa_flash", "sdpa_cudnn"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="Google Benchmark JSON file to write")
    p.add_argument("--device-db", default=None, help="xkern device database (devices.json) for the peaks")
    p.add_argument("--gpu-name", default=None, help="product name for the peak lookup (default: torch's device name)")
    p.add_argument("--filter", default=".", help="only benchmark names matching this regular expression")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls before timing (default 5)")
    p.add_argument("--reps", type=int, default=30, help="timed calls; the median is reported (default 30)")
    p.add_argument("--budget-s", type=float, default=0, help="stop starting new shapes after this many seconds (0: no limit)")
    p.add_argument("--dry-run", action="store_true", help="no torch, no GPU: write the JSON with every entry untimed")
    a = p.parse_args(argv)
    if a.warmup < 0:
        p.error("--warmup must be >= 0")
    if a.reps < 1:
        p.error("--reps must be >= 1")
    if a.budget_s < 0:
        p.error("--budget-s must be >= 0")
    try:
        re.compile(a.filter)
    except re.error as e:
        p.error(f"--filter '{a.filter}' is not a valid regular expression: {e}")
    return a


# ---- what one call does (the same compulsory figures as bench/accounting.cpp) ------------
ELEM_BYTES = {"i8": 1, "f16": 2, "bf16": 2, "i32": 4}


def matmul_work(m: int, n: int, k: int, w: str, out_bytes: int) -> dict:
    return {"flops": 2.0 * m * n * k,
            "bytes": float(n * k * ELEM_BYTES[w] + m * k * ELEM_BYTES[w] + m * n * out_bytes),
            "tokens": float(m)}


def attention_pairs(s: int, t: int, causal: bool, q_offset: int) -> int:
    if not causal:
        return s * t
    return sum(min(t, q_offset + i + 1) for i in range(s))


def attention_work(shape: kit_shapes.Shape) -> dict:
    b, hq, hkv, s, t, d = shape.dims
    pairs = attention_pairs(s, t, shape.causal, shape.q_offset)
    q = b * hq * s * d
    return {"flops": 4.0 * b * hq * d * pairs, "bytes": float(2 * (q + 2 * b * hkv * t * d + q)), "tokens": float(b * s)}


# ---- the JSON ------------------------------------------------------------------------------
def entry_name(shape: kit_shapes.Shape, peer: str, w: str = "f16", act: str = "f16") -> str:
    if shape.op == "matmul":
        return f"matmul/custom/{shape.tag}/{w}/{act}/variant={peer}/{DEVICE_SEGMENT}"
    return f"attention/custom/{shape.tag}/f16/variant={peer}/{DEVICE_SEGMENT}"


def timed_entry(name: str, index: int, work: dict, seconds: float, reps: int, label: str,
                peaks: dict | None, klass: str) -> dict:
    ms = seconds * 1e3
    e = {"name": name, "family_index": index, "per_family_instance_index": 0, "run_name": name,
         "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1,
         "iterations": reps, "real_time": ms, "cpu_time": ms, "time_unit": "ms"}
    e.update(work)
    e["FLOP/s"] = work["flops"] / seconds
    e["bytes/s"] = work["bytes"] / seconds
    e["tok/s"] = work["tokens"] / seconds
    for k, v in peaks_mod.percent_of_peak(work["flops"], work["bytes"], seconds, peaks, klass).items():
        if v is not None:
            e[k] = v
    e["label"] = label
    return e


def error_entry(name: str, index: int, why: str) -> dict:
    return {"name": name, "family_index": index, "per_family_instance_index": 0, "run_name": name,
            "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": 1,
            "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ms",
            "error_occurred": True, "error_message": why}


def write_json(path: str, context: dict, benchmarks: list) -> None:
    # Written after every entry (through a rename), so a run cut off by its time limit
    # still leaves a complete file of what it measured.
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"context": context, "benchmarks": benchmarks}, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def base_context(args: argparse.Namespace) -> dict:
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host_name": platform.node(), "executable": os.path.abspath(__file__),
            "num_cpus": os.cpu_count() or 0, "library_build_type": "release",
            "peers": "PyTorch: torch._int_mm (cuBLASLt), torch.matmul (cuBLAS), scaled_dot_product_attention",
            "timer": f"CUDA events around each call, the GPU kept busy by a spin kernel while it is enqueued; "
                 f"median of {args.reps} calls after {args.warmup} warm-up calls"}


def planned(args: argparse.Namespace) -> list[tuple[kit_shapes.Shape, str, str, str]]:
    """(shape, peer, weight format, activation) in run order, after --filter."""
    rx = re.compile(args.filter)
    out = []
    for s in kit_shapes.kit_shapes():
        if s.op == "matmul":
            rows = [(s, p, w, a) for p, w, a in MATMUL_PEERS]
        else:
            rows = [(s, p, "f16", "f16") for p in ATTENTION_PEERS]
        out += [r for r in rows if rx.search(entry_name(r[0], r[1], r[2], r[3]))]
    return out


def dry_run(args: argparse.Namespace) -> int:
    context = base_context(args)
    context["dry_run"] = True
    benches = [error_entry(entry_name(s, p, w, a), i, "dry run: not timed (no torch, no GPU)")
               for i, (s, p, w, a) in enumerate(planned(args))]
    write_json(args.out, context, benches)
    print(f"torch_peers: dry run: {len(benches)} entries written to {args.out}")
    return 0


# ---- the GPU run -----------------------------------------------------------------------------
def run(args: argparse.Namespace) -> int:
    import torch  # only here: the dry run and the tests need no torch

    if not torch.cuda.is_available():
        print("torch_peers: torch sees no CUDA device", file=sys.stderr)
        return 1
    dev = torch.device("cuda:0")
    props = torch.cuda.get_device_properties(dev)
    gpu = args.gpu_name or props.name
    peaks = peaks_mod.load_peaks(gpu, args.device_db)
    context = base_context(args)
    context.update({"torch": torch.__version__, "cuda_runtime": torch.version.cuda,
                    "cudnn": torch.backends.cudnn.version(), "gpu": props.name,
                    "sm_count": props.multi_processor_count, "gpu_memory_bytes": props.total_memory,
                    "peaks": peaks if peaks else f"unknown for '{gpu}': no % of peak"})
    from torch.nn.attention import SDPBackend, sdpa_kernel

    # A GEMV or a decode attention takes ~10 us on an H200, less than PyTorch needs to launch
    # it: events around an eager call would time the host. A spin kernel before each call
    # keeps the GPU busy while the host enqueues start event, call and end event, so the
    # interval between the events is the call's GPU time alone.
    spin = getattr(torch.cuda, "_sleep", None)
    spin_cycles = 200_000  # ~100 us at ~2 GHz

    def median_seconds(fn) -> float:
        for _ in range(args.warmup):
            fn()
        torch.cuda.synchronize()
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(args.reps)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(args.reps)]
        for s, e in zip(starts, ends):
            if spin:
                spin(spin_cycles)
            s.record()
            fn()
            e.record()
        torch.cuda.synchronize()
        return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends)) * 1e-3

    gen = torch.Generator(device=dev).manual_seed(1234)
    t0 = time.monotonic()
    benches: list = []
    cache: dict = {}
    label_timer = f"timer=cuda-events median of {args.reps}"
    for i, (s, peer, w, act) in enumerate(planned(args)):
        name = entry_name(s, peer, w, act)
        if args.budget_s and time.monotonic() - t0 > args.budget_s:
            benches.append(error_entry(name, i, f"not run: the {args.budget_s:.0f} s budget was spent"))
            continue
        extra = ""
        try:
            if s.op == "matmul":
                m, n, k = s.dims
                if w == "i8":
                    if m <= 16:
                        raise ValueError("torch._int_mm needs M > 16 (cuBLASLt int8 path)")
                    key = ("i8", m, n, k)
                    if key not in cache:
                        cache.clear()  # one shape's tensors at a time keeps memory small
                        x = torch.randint(-128, 127, (m, k), generator=gen, device=dev, dtype=torch.int8)
                        wt = torch.randint(-128, 127, (n, k), generator=gen, device=dev, dtype=torch.int8)
                        cache[key] = (x, wt)
                    x, wt = cache[key]
                    fn = lambda: torch._int_mm(x, wt.t())  # noqa: E731  W^T as a view: cuBLASLt's TN layout
                    work = matmul_work(m, n, k, "i8", ELEM_BYTES["i32"])
                else:
                    dt = torch.float16 if w == "f16" else torch.bfloat16
                    x = torch.randn(m, k, generator=gen, device=dev, dtype=torch.float32).to(dt)
                    wt = torch.randn(n, k, generator=gen, device=dev, dtype=torch.float32).to(dt)
                    fn = lambda: torch.matmul(x, wt.t())  # noqa: E731
                    work = matmul_work(m, n, k, w, ELEM_BYTES[w])
                sec = median_seconds(fn)
                klass = peaks_mod.instruction_class("matmul", act)
            else:
                b, hq, hkv, sq, t, d = s.dims
                q = torch.randn(b, hq, sq, d, generator=gen, device=dev, dtype=torch.float32).half()
                kk = torch.randn(b, hkv, t, d, generator=gen, device=dev, dtype=torch.float32).half()
                vv = torch.randn(b, hkv, t, d, generator=gen, device=dev, dtype=torch.float32).half()
                # SDPA's is_causal aligns the mask top-left; for one decode query at the end of
                # the cache every key is visible, which is the non-causal call.
                causal = s.causal and sq > 1
                backend = SDPBackend.FLASH_ATTENTION if peer == "sdpa_flash" else SDPBackend.CUDNN_ATTENTION
                note = "gqa"
                try:
                    with sdpa_kernel(backend):
                        torch.nn.functional.scaled_dot_product_attention(q, kk, vv, is_causal=causal, enable_gqa=True)
                    fn_kv = (kk, vv)
                except RuntimeError:
                    # A backend without grouped-query heads gets K/V expanded once, outside the timing.
                    rep = hq // hkv
                    fn_kv = (kk.repeat_interleave(rep, dim=1), vv.repeat_interleave(rep, dim=1))
                    note = "kv expanded to Hq heads (backend lacks GQA)"
                k2, v2 = fn_kv
                gqa = note == "gqa"
                with sdpa_kernel(backend):  # entered once: its host cost stays out of the timing
                    sec = median_seconds(lambda: torch.nn.functional.scaled_dot_product_attention(
                        q, k2, v2, is_causal=causal, enable_gqa=gqa))
                work = attention_work(s)
                klass = peaks_mod.instruction_class("attention", "f16")
                extra = f" {note}"
            label = f"peer={peer} class={klass} {label_timer}{extra}"
            benches.append(timed_entry(name, i, work, sec, args.reps, label, peaks, klass))
        except Exception as e:  # noqa: BLE001  any failure of one peer is that entry's result
            benches.append(error_entry(name, i, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"))
        write_json(args.out, context, benches)
    ok = sum(1 for b in benches if not b.get("error_occurred"))
    print(f"torch_peers: {ok} of {len(benches)} peers timed on {props.name}; written to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return dry_run(args) if args.dry_run else run(args)


if __name__ == "__main__":
    raise SystemExit(main())
