#!/usr/bin/env python3
"""The device kit's records: the step log (kit.json + summary.md) and the comparison table.

  kit_report.py init    --out-dir D --mode gpu|dry-run [--build-info FILE]
  kit_report.py step    --out-dir D --name N --status ok|failed|skipped|timeout
                        --seconds S [--reason TEXT] [--files F ...]
  kit_report.py gtest   LOG                  one line: passed/failed/skipped counts of a
                                             GoogleTest log (complete or cut off)
  kit_report.py devices FILE [--nvidia-vulkan]  one line from `xk devices --json`; with
                                             --nvidia-vulkan, the name of the first available
                                             Vulkan device that is not llvmpipe, then a line
                                             saying what it is (exit 1 when there is none)
  kit_report.py merge   --out F IN ...       Google Benchmark JSON files into one
  kit_report.py compare --xk F --peers F [--device-db DB] [--gpu-name NAME] --md F --json F
                        each xkern kernel's % of peak and its ratio to the best peer
  kit_report.py device-key NAME              the device-database key of an nvidia-smi name
                                             (what `xk predict --device` takes); exit 1 when
                                             the database has no entry for it

Every command rewrites its files whole through a rename, so a run cut off at any moment
leaves well-formed JSON and a readable summary of the steps that finished.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kit_shapes  # noqa: E402
import peaks as peaks_mod  # noqa: E402

STATUSES = ("ok", "failed", "skipped", "timeout")


def write_atomic(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---- the step log ----------------------------------------------------------------------------
def cmd_init(a: argparse.Namespace) -> int:
    os.makedirs(a.out_dir, exist_ok=True)
    info = ""
    if a.build_info and os.path.exists(a.build_info):
        with open(a.build_info, encoding="utf-8") as f:
            info = f.read().strip()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    kit = {"kit": {"mode": a.mode, "started": started, "bundle": info.splitlines()}, "steps": []}
    write_atomic(os.path.join(a.out_dir, "kit.json"), json.dumps(kit, indent=1) + "\n")
    lines = [f"# xkern device kit ({a.mode})", "", f"Started {started}."]
    if info:
        lines += ["", "Bundle: " + "; ".join(info.splitlines()) + "."]
    lines += ["", "| step | status | seconds | result | files |", "| --- | --- | --- | --- | --- |"]
    write_atomic(os.path.join(a.out_dir, "summary.md"), "\n".join(lines) + "\n")
    return 0


def cmd_step(a: argparse.Namespace) -> int:
    kit_path = os.path.join(a.out_dir, "kit.json")
    kit = read_json(kit_path)
    files = [f for f in a.files if os.path.exists(os.path.join(a.out_dir, f))]
    step = {"name": a.name, "status": a.status, "seconds": round(a.seconds, 1), "reason": a.reason, "files": files}
    kit["steps"].append(step)
    write_atomic(kit_path, json.dumps(kit, indent=1) + "\n")
    cell = a.reason.replace("|", "/").replace("\n", " ")
    row = f"| {a.name} | {a.status} | {a.seconds:.1f} | {cell} | {', '.join(files)} |\n"
    with open(os.path.join(a.out_dir, "summary.md"), encoding="utf-8") as f:
        summary = f.read()
    write_atomic(os.path.join(a.out_dir, "summary.md"), summary + row)
    return 0


def gtest_counts(text: str) -> dict:
    """Counts from GoogleTest's output; a log cut off before its summary is counted line by line."""
    def total(tag: str) -> int | None:
        m = re.search(r"^\[\s*" + tag + r"\s*\] (\d+) tests?", text, re.M)
        return int(m.group(1)) if m else None

    failed_names = sorted(set(re.findall(r"^\[\s*FAILED\s*\] (\S+?)(?:,| \(|$)", text, re.M)))
    out = {"passed": total("PASSED"), "failed": total("FAILED"), "skipped": total("SKIPPED"), "complete": True}
    if out["passed"] is None:
        out = {"passed": len(re.findall(r"^\[\s*OK\s*\]", text, re.M)), "failed": len(failed_names),
               "skipped": len(re.findall(r"^\[\s*SKIPPED\s*\]", text, re.M)), "complete": False}
    out["failed"] = out["failed"] or 0
    out["skipped"] = out["skipped"] or 0
    out["failed_names"] = [n for n in failed_names if "/" in n or "." in n]
    return out


def cmd_gtest(a: argparse.Namespace) -> int:
    try:
        with open(a.log, encoding="utf-8", errors="replace") as f:
            c = gtest_counts(f.read())
    except OSError as e:
        print(f"no log: {e}")
        return 0
    line = f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped"
    if not c["complete"]:
        line += " (log cut off: counted from its lines)"
    if c["failed_names"]:
        shown = c["failed_names"][:5]
        line += "; failed: " + ", ".join(shown) + (f" and {len(c['failed_names']) - 5} more" if len(c["failed_names"]) > 5 else "")
    print(line)
    return 0


def device_list(j) -> list:
    return j.get("devices", []) if isinstance(j, dict) else j


def cmd_devices(a: argparse.Namespace) -> int:
    devs = device_list(read_json(a.file))
    if a.nvidia_vulkan:
        # The first Vulkan device that is a GPU: an image with Mesa installed lists llvmpipe too.
        vk = [d for d in devs if d.get("api") == "vulkan" and d.get("available")]
        gpus = [d for d in vk if d.get("info", {}).get("arch") != "llvmpipe" and "llvmpipe" not in d.get("description", "")]
        if not gpus:
            why = "; ".join(f"{d.get('name')}: {d.get('description') or d.get('reason')}" for d in vk) or \
                next((d.get("reason", "") for d in devs if d.get("api") == "vulkan"), "no Vulkan device listed")
            print(f"no NVIDIA Vulkan device ({why})")
            return 1
        print(gpus[0]["name"])
        print(f"{gpus[0]['name']} is {gpus[0].get('description')}")
        return 0
    print(", ".join(f"{d.get('name')}={'yes' if d.get('available') else 'no'}" for d in devs))
    return 0


def cmd_merge(a: argparse.Namespace) -> int:
    context, benches, used = {}, [], []
    for path in a.inputs:
        try:
            j = read_json(path)
        except (OSError, ValueError):
            continue  # a part cut off by its time limit: the others still merge
        context = context or j.get("context", {})
        benches += j.get("benchmarks", [])
        used.append(os.path.basename(path))
    context["merged_from"] = used
    write_atomic(a.out, json.dumps({"context": context, "benchmarks": benches}, indent=1) + "\n")
    print(f"{len(benches)} benchmarks from {len(used)} files")
    return 0


# ---- the comparison ----------------------------------------------------------------------------
def parse_entry(b: dict) -> dict | None:
    """op, shape tag, format, act, variant, device and seconds of a custom-shape entry."""
    if b.get("error_occurred") or b.get("run_type", "iteration") != "iteration":
        return None
    seg = [s for s in b.get("name", "").split("/") if s not in ("manual_time", "real_time")]
    seg = [s for s in seg if not s.startswith(("iterations:", "min_time:"))]
    if len(seg) < 5 or seg[1] != "custom":
        return None
    variant = next((s[8:] for s in seg if s.startswith("variant=")), "")
    seg = [s for s in seg if not s.startswith("variant=")]
    label = b.get("label", "")
    if not variant and "variant=" in label:
        variant = label.split("variant=", 1)[1].split(" ")[0]
    op, tag, device = seg[0], seg[2], seg[-1]
    fmt = seg[3]
    act = seg[4] if op == "matmul" and len(seg) > 5 else "f16"
    if "act=" in label:
        act = label.split("act=", 1)[1].split(" ")[0]
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
    seconds = float(b.get("real_time", 0)) * unit
    if seconds <= 0:
        return None
    flops = b.get("flops") or b.get("FLOP/s", 0) * seconds
    bytes_ = b.get("bytes") or b.get("bytes/s", 0) * seconds
    return {"op": op, "tag": tag, "format": fmt, "act": act, "variant": variant, "device": device,
            "seconds": seconds, "flops": float(flops), "bytes": float(bytes_)}


def compare(xk: dict, peers: dict, peaks: dict | None) -> list[dict]:
    xs = [e for e in map(parse_entry, xk.get("benchmarks", [])) if e and not e["device"].startswith("torch")]
    ps = [e for e in map(parse_entry, peers.get("benchmarks", [])) if e]
    labels = {(s.op, s.tag): s.label for s in kit_shapes.kit_shapes()}
    rows = []
    for e in xs:
        same = [p for p in ps if p["op"] == e["op"] and p["tag"] == e["tag"]]
        best = min(same, key=lambda p: p["seconds"]) if same else None
        klass = peaks_mod.instruction_class(e["op"], e["act"])
        pct = peaks_mod.percent_of_peak(e["flops"], e["bytes"], e["seconds"], peaks, klass)
        rows.append({"shape": labels.get((e["op"], e["tag"]), e["tag"]), "tag": e["tag"], "op": e["op"],
                     "format": e["format"], "act": e["act"], "variant": e["variant"], "device": e["device"],
                     "seconds": e["seconds"], "tflops": e["flops"] / e["seconds"] / 1e12, "class": klass, **pct,
                     "best_peer": best["variant"] if best else None, "peer_seconds": best["seconds"] if best else None,
                     "ratio_to_best_peer": peaks_mod.ratio_to_best_peer(e["seconds"], [p["seconds"] for p in same])})
    return rows


def fmt_pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1f}%"


def render_md(rows: list[dict], peaks: dict | None, gpu: str) -> str:
    src = peaks["source"] if peaks else f"no peaks known for '{gpu}'"
    lines = ["## xkern vs peers", "",
             f"Device: {gpu or 'unknown'}. Peaks: {src}. Measured: times are medians (xkern: Google Benchmark "
             "with device timers; peers: CUDA events). Ratio = best peer's time / xkern's time (> 1: xkern faster).",
             "", "| shape | xkern format/act | variant | us | TFLOP/s | % peak (class) | % roofline | best peer | peer us | ratio |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        ratio = "n/a" if r["ratio_to_best_peer"] is None else f"{r['ratio_to_best_peer']:.2f}x"
        peer_us = "n/a" if r["peer_seconds"] is None else f"{r['peer_seconds'] * 1e6:.1f}"
        lines.append(f"| {r['shape']} | {r['format']}/{r['act']} | `{r['variant']}` | {r['seconds'] * 1e6:.1f} | "
                     f"{r['tflops']:.2f} | {fmt_pct(r['pct_peak'])} ({r['class']}) | {fmt_pct(r['pct_roofline'])} | "
                     f"{r['best_peer'] or 'none'} | {peer_us} | {ratio} |")
    if not rows:
        lines.append("| (no xkern measurement to compare) | | | | | | | | | |")
    return "\n".join(lines) + "\n"


def cmd_compare(a: argparse.Namespace) -> int:
    def load(path: str) -> dict:
        try:
            return read_json(path)
        except (OSError, ValueError):
            return {}

    xk, peers = load(a.xk), load(a.peers)
    gpu = a.gpu_name or peers.get("context", {}).get("gpu", "")
    peaks = peaks_mod.load_peaks(gpu, a.device_db) if gpu else None
    rows = compare(xk, peers, peaks)
    write_atomic(a.json, json.dumps({"gpu": gpu, "peaks": peaks, "rows": rows}, indent=1) + "\n")
    write_atomic(a.md, render_md(rows, peaks, gpu))
    with_peer = sum(1 for r in rows if r["ratio_to_best_peer"] is not None)
    print(f"{len(rows)} xkern kernels compared, {with_peer} with a peer on the same shape")
    return 0


def cmd_device_key(a: argparse.Namespace) -> int:
    key = peaks_mod.device_key(a.name)
    if not key:
        print(f"no device-database entry for '{a.name}'")
        return 1
    print(key)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init")
    i.add_argument("--out-dir", required=True)
    i.add_argument("--mode", required=True, choices=("gpu", "dry-run"))
    i.add_argument("--build-info")
    s = sub.add_parser("step")
    s.add_argument("--out-dir", required=True)
    s.add_argument("--name", required=True)
    s.add_argument("--status", required=True, choices=STATUSES)
    s.add_argument("--seconds", required=True, type=float)
    s.add_argument("--reason", default="")
    s.add_argument("--files", nargs="*", default=[])
    g = sub.add_parser("gtest")
    g.add_argument("log")
    d = sub.add_parser("devices")
    d.add_argument("file")
    d.add_argument("--nvidia-vulkan", action="store_true")
    m = sub.add_parser("merge")
    m.add_argument("--out", required=True)
    m.add_argument("inputs", nargs="*")
    c = sub.add_parser("compare")
    c.add_argument("--xk", required=True)
    c.add_argument("--peers", required=True)
    c.add_argument("--device-db")
    c.add_argument("--gpu-name")
    c.add_argument("--md", required=True)
    c.add_argument("--json", required=True)
    k = sub.add_parser("device-key")
    k.add_argument("name")
    a = p.parse_args(argv)
    return {"device-key": cmd_device_key, "init": cmd_init, "step": cmd_step, "gtest": cmd_gtest, "devices": cmd_devices, "merge": cmd_merge, "compare": cmd_compare}[a.cmd](a)


if __name__ == "__main__":
    raise SystemExit(main())
