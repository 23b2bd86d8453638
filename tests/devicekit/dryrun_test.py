#!/usr/bin/env python3
"""The bundle's dry run: every step that needs no GPU passes, every GPU step is named as
skipped with "skipped: no NVIDIA GPU", and kit.json / summary.md record them all.

The bundle is XK_KIT_BUNDLE (or XK_KIT_BUNDLE_DEFAULT, which CTest sets to build/kit);
without one this exits 77, which CTest reports as skipped: build it with
`tools/device-kit bundle build/kit`."""
import json
import os
import subprocess
import sys
import tempfile

GPU_STEPS = ["machine.gpu", "harness.cuda", "harness.vulkan", "badinput.cuda", "bench.xk", "peers",
             "sanitizer.memcheck", "sanitizer.racecheck", "sanitizer.synccheck", "sanitizer.initcheck", "ncu"]
HOST_STEPS = ["machine.host", "harness.cuda-sim", "badinput.cuda-sim", "harness.cpu-ref", "bench.cpu-ref", "peers.dry-run", "compare"]


def main() -> int:
    bundle = os.environ.get("XK_KIT_BUNDLE") or os.environ.get("XK_KIT_BUNDLE_DEFAULT", "")
    run = os.path.join(bundle, "run")
    if not bundle or not os.access(run, os.X_OK):
        print(f"skipped: no device-kit bundle at '{bundle}' (tools/device-kit bundle build/kit makes one)")
        return 77
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([run, "--dry-run", "--out", out, "--budget-s", "800"], capture_output=True, text=True, timeout=880)
        print(r.stdout + r.stderr)
        problems = []
        if r.returncode != 0:
            problems.append(f"exit status {r.returncode}")
        with open(os.path.join(out, "kit.json")) as f:
            steps = {s["name"]: s for s in json.load(f)["steps"]}
        for name in GPU_STEPS:
            s = steps.get(name)
            if not s or s["status"] != "skipped" or s["reason"] != "skipped: no NVIDIA GPU":
                problems.append(f"GPU step {name} not recorded as 'skipped: no NVIDIA GPU': {s}")
            if f"{name}" not in r.stdout or "skipped: no NVIDIA GPU" not in r.stdout:
                problems.append(f"GPU step {name} not printed as skipped")
        for name in HOST_STEPS:
            s = steps.get(name)
            if not s or s["status"] != "ok":
                problems.append(f"host step {name} did not pass: {s}")
        try:
            with open(os.path.join(out, "peers.json")) as f:
                if not json.load(f)["benchmarks"]:
                    problems.append("peers.json has no entries")
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"peers.json missing or malformed: {e}")
        with open(os.path.join(out, "summary.md")) as f:
            summary = f.read()
        for name in GPU_STEPS + HOST_STEPS:
            if f"| {name} |" not in summary:
                problems.append(f"summary.md lacks a row for {name}")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
