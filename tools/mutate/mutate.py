#!/usr/bin/env python3
"""tools/mutate: mutation testing of the kernels against the project's own tests.

Each mutant of catalogue.json is one realistic bug (a deleted barrier or cp.async wait, an
off-by-one tail or causal guard, a wrong GQA mapping, a dropped split, a misaligned row...).
For each: apply it to the source, rebuild only the targets that include that file (ninja
recompiles only what depends on it), run the tests that cover it, restore the file, and
report killed (with the test that failed) or survived.

  tools/mutate/mutate.py --check               every pattern found exactly once (fast)
  tools/mutate/mutate.py --list
  tools/mutate/mutate.py [--only ID,ID|--lang cuda] [--build-dir build/mutate]

The build tree defaults to build/mutate, configured on first use from the `ci` preset with
the CUDA and HIP hardware backends off (their nvcc/hipcc objects would be rebuilt for every
kernel mutant; the simulators compile the same sources with the host compiler).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def pattern_regex(find):
    """A regex for `find` where any whitespace run, and optional whitespace around
    punctuation, matches any whitespace run in the source (reformatting is harmless)."""
    tokens = re.findall(r"\w+|[^\w\s]", find)
    parts = []
    for i, tok in enumerate(tokens):
        if i:
            prev = tokens[i - 1]
            both_words = re.match(r"\w", prev) and re.match(r"\w", tok)
            parts.append(r"\s+" if both_words else r"\s*")
        parts.append(re.escape(tok))
    return re.compile("".join(parts))


def load_catalogue():
    with open(os.path.join(HERE, "catalogue.json")) as f:
        return json.load(f)


def language_of(cat, mutant):
    for name, lang in cat["languages"].items():
        if mutant["file"].startswith(lang["folder"]):
            return name, lang
    raise SystemExit(f"mutant {mutant['id']}: {mutant['file']} is in no language folder of the catalogue")


def tests_of(cat, mutant):
    """The targets and ctest regex of a mutant: its language's, unless it sets its own."""
    spec = dict(language_of(cat, mutant)[1])
    spec.update(mutant.get("tests", {}))
    return spec


def locate(mutant):
    """(text, match) or an error string naming the mutant and what went wrong."""
    path = os.path.join(ROOT, mutant["file"])
    if not os.path.exists(path):
        return None, f"{mutant['id']}: file {mutant['file']} does not exist"
    with open(path) as f:
        text = f.read()
    matches = list(pattern_regex(mutant["find"]).finditer(text))
    if len(matches) != 1:
        where = ", ".join("line %d" % (text.count("\n", 0, m.start()) + 1) for m in matches[:5])
        what = "not found" if not matches else f"not unique ({len(matches)} matches: {where})"
        return None, f"{mutant['id']}: pattern {mutant['find']!r} {what} in {mutant['file']}"
    return (text, matches[0]), None


def check(cat):
    errors, ids = [], set()
    for m in cat["mutants"]:
        if m["id"] in ids:
            errors.append(f"{m['id']}: duplicate id")
        ids.add(m["id"])
        for key in ("file", "find", "replace", "description"):
            if key not in m:
                errors.append(f"{m['id']}: missing field '{key}'")
        language_of(cat, m)
        _, err = locate(m)
        if err:
            errors.append(err)
    for e in errors:
        print("mutate: " + e, file=sys.stderr)
    print(f"mutate: {len(cat['mutants'])} mutants, {len(errors)} problems")
    return 1 if errors else 0


def configure(build_dir):
    if os.path.exists(os.path.join(build_dir, "build.ninja")):
        return
    subprocess.run(["cmake", "--preset", "ci", "-B", build_dir, "-DXK_CUDA=OFF", "-DXK_HIP=OFF",
                    "-DXK_BUILD_BENCH=OFF", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def build(build_dir, targets, jobs):
    r = subprocess.run(["cmake", "--build", build_dir, "-j", str(jobs), "--target", *targets], cwd=ROOT,
                       capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def run_tests(build_dir, spec):
    """Returns the name of the first failing test, or None when all pass."""
    r = subprocess.run(["ctest", "--test-dir", build_dir, "-R", spec["ctest"], "--output-on-failure",
                        "--timeout", str(spec.get("timeout", 600))], cwd=ROOT, capture_output=True, text=True)
    if "No tests were found" in r.stdout + r.stderr:
        return "no test matched " + spec["ctest"]
    failed = re.findall(r"^\s*\d+ - (\S+) \((?:Failed|Timeout|SEGFAULT|Subprocess aborted|Exception)", r.stdout, re.M)
    if r.returncode != 0 and not failed:
        failed = ["ctest (exit %d)" % r.returncode]
    return failed[0] if failed else None


def run(cat, mutants, build_dir, jobs):
    configure(build_dir)
    results, t_start = [], time.time()
    for m in mutants:
        spec = tests_of(cat, m)
        found, err = locate(m)
        if err:
            results.append((m, "ERROR", err, 0.0))
            print("mutate: " + err, flush=True)
            continue
        text, match = found
        path = os.path.join(ROOT, m["file"])
        t0 = time.time()
        try:
            with open(path, "w") as f:
                f.write(text[:match.start()] + m["replace"] + text[match.end():])
            ok, log = build(build_dir, spec["targets"], jobs)
            if not ok:
                static = "static_assert" in log
                verdict, by = "killed", "build (static_assert)" if static else "build (does not compile)"
            else:
                by = run_tests(build_dir, spec)
                verdict = "killed" if by else "survived"
        finally:
            with open(path, "w") as f:
                f.write(text)
        dt = time.time() - t0
        results.append((m, verdict, by or "", dt))
        print(f"{verdict:8s} {m['id']:40s} {dt:6.0f} s  {by or ''}", flush=True)
    # Rebuild everything a mutant touched from the restored sources, per-mutant targets too.
    build(build_dir, sorted({t for m in mutants for t in tests_of(cat, m)["targets"]}), jobs)
    killed = sum(1 for r in results if r[1] == "killed")
    print(f"mutate: {killed}/{len(results)} killed in {time.time() - t_start:.0f} s")
    for m, verdict, by, _ in results:
        if verdict != "killed":
            print(f"  {verdict}: {m['id']} ({m['description']})")
    return 0 if killed == len(results) else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="verify every pattern is found exactly once")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--lang", help="cuda, hip or glsl")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "mutate"))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()
    cat = load_catalogue()
    if args.check:
        return check(cat)
    mutants = cat["mutants"]
    if args.only:
        wanted = args.only.split(",")
        unknown = [w for w in wanted if w not in {m["id"] for m in mutants}]
        if unknown:
            raise SystemExit("mutate: unknown mutant id(s): " + ", ".join(unknown))
        mutants = [m for m in mutants if m["id"] in wanted]
    if args.lang:
        mutants = [m for m in mutants if language_of(cat, m)[0] == args.lang]
    if args.list:
        for m in mutants:
            print(f"{m['id']:40s} {m['file']:32s} {m['description']}")
        return 0
    return run(cat, mutants, args.build_dir, args.jobs)


if __name__ == "__main__":
    sys.exit(main())
