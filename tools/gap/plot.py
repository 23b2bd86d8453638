#!/usr/bin/env python3
"""Plots for `xk report` (tools/gap/report.cpp writes the data; this file only draws).

usage: plot.py report_data.json OUT_DIR

Writes OUT_DIR/roofline_<device>.png (one per device: a ceiling per instruction class,
the bandwidth slope, each kernel at its arithmetic intensity and attained FLOP/s) and
OUT_DIR/pp_time.png (one stacked bar per device: the share of the prompt-processing time
each kernel takes, the total time written on top).
"""
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

CLASS_COLORS = {
    "fp4_mma": "tab:purple", "fp8_mma": "tab:blue", "int8_mma": "tab:green", "int4_mma": "tab:olive",
    "f16_mma_f32acc": "tab:orange", "f32_fma": "tab:gray", "bench": "tab:red",
}
KERNEL_COLORS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]


def roofline(dev, workload, out_dir):
    fig, ax = plt.subplots(figsize=(9, 6))
    bw = dev["bandwidth"]
    points = dev.get("points", [])
    ais = [p["ai"] for p in points if p["ai"] > 0] or [1.0]
    lo, hi = min(min(ais) / 4, 0.1), max(max(ais) * 4, 1e4)
    peaks = sorted(dev["peaks"].items(), key=lambda kv: -kv[1]["ops"])
    drawn = set()
    for cls, peak in peaks:
        ridge = peak["ops"] / bw
        style = "--" if peak["ops"] in drawn else "-"
        drawn.add(peak["ops"])
        xs = [lo, ridge, hi]
        ys = [bw * lo, peak["ops"], peak["ops"]]
        ax.plot(xs, ys, style, color=CLASS_COLORS.get(cls, "black"), lw=1.5,
                label=f"{cls} peak {peak['ops'] / 1e12:.1f} T ({peak['kind']})")
    ax.plot([], [], " ", label=f"bandwidth {bw / 1e9:.0f} GB/s ({dev['bandwidth_kind']})")
    placed = []  # (log10 ai, log10 rate, stack depth) of labels already drawn
    for p in sorted(points, key=lambda q: (-q["rate"], q["ai"])):
        color = CLASS_COLORS.get(p["class"], "black")
        face = color if p["measured"] else "none"
        ax.scatter(p["ai"], p["rate"], s=48, edgecolors=color, facecolors=face, zorder=3)
        x, y = math.log10(p["ai"]), math.log10(p["rate"])
        # Points close together get their labels stacked downwards instead of overprinted.
        depth = sum(1 for (px, py, _) in placed if abs(px - x) < 0.6 and abs(py - y) < 0.25)
        placed.append((x, y, depth))
        ax.annotate(p["label"], (p["ai"], p["rate"]), textcoords="offset points", xytext=(6, -10 - 9 * depth),
                    fontsize=7, color="dimgray" if depth else "black")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    top = max(pk["ops"] for _, pk in peaks) * 3
    rates = [p["rate"] for p in points if p["rate"] > 0]
    bottom = min(min(rates) / 3 if rates else top, bw * lo)
    ax.set_ylim(bottom, top)
    ax.set_xlabel("arithmetic intensity (FLOP per DRAM byte)")
    ax.set_ylabel("FLOP/s (or int OP/s)")
    ax.set_title(f"{dev['name']}\nroofline, {workload}: predicted {dev['tok_per_s']:.1f} tok/s "
                 "(filled = measured, hollow = predicted)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"roofline_{dev['key']}.png"), dpi=110)
    plt.close(fig)


def time_breakdown(data, out_dir):
    devices = data["devices"]
    kernels = []
    for d in devices:
        for k, _ in d["time"]:
            if k not in kernels:
                kernels.append(k)
    times = [dict(d["time"]) for d in devices]
    fig, ax = plt.subplots(figsize=(1.8 * len(devices) + 4, 5.5))
    bottoms = [0.0] * len(devices)
    names = [d["key"] for d in devices]
    for i, k in enumerate(kernels):
        shares = [100 * t.get(k, 0) / d["total_s"] for t, d in zip(times, devices)]
        ax.bar(names, shares, bottom=bottoms, color=KERNEL_COLORS[i % len(KERNEL_COLORS)], label=k)
        bottoms = [b + s for b, s in zip(bottoms, shares)]
    for x, d in enumerate(devices):
        total = f"{d['total_s']:.1f} s" if d["total_s"] >= 10 else f"{d['total_s'] * 1e3:.0f} ms"
        ax.text(x, 101, f"{total}\n{d['tok_per_s']:.4g} tok/s", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, 118)
    ax.set_ylabel("share of prompt-processing time (%)")
    ax.set_title(f"Where {data['workload']} time goes: {data['model']}, {data['format']} weights", fontsize=10)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "pp_time.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    os.makedirs(sys.argv[2], exist_ok=True)
    for dev in data["devices"]:
        roofline(dev, data["workload"], sys.argv[2])
    time_breakdown(data, sys.argv[2])


if __name__ == "__main__":
    main()
