"""The device kit's host side, without torch or a GPU: the peer script's arguments and JSON,
the % of peak and ratio arithmetic, the step records, and (when the built `xk` is given in
XK_TOOL) that xkern's own bench-JSON reader accepts what the peers write."""
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

PEERS = os.environ.get("XK_PEERS_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "bench", "peers")
sys.path.insert(0, os.path.abspath(PEERS))
import kit_report  # noqa: E402
import kit_shapes  # noqa: E402
import peaks  # noqa: E402
import torch_peers  # noqa: E402

H200 = {"key": "h200", "peak_tops": {"int8_mma": 1978.9, "f16_mma_f32acc": 989.4}, "bandwidth_gbs": 4800.0, "source": "test"}


def quiet(fn, *args):
    """Runs fn, swallowing argparse's usage text; returns its SystemExit code or result."""
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return fn(*args)
        except SystemExit as e:
            return e.code


class PeerArguments(unittest.TestCase):
    def test_out_is_required(self):
        self.assertEqual(quiet(torch_peers.parse_args, []), 2)

    def test_bad_values_are_refused_with_usage_errors(self):
        for bad in (["--reps", "0"], ["--warmup", "-1"], ["--budget-s", "-5"], ["--filter", "("], ["--reps", "x"]):
            with self.subTest(bad=bad):
                self.assertEqual(quiet(torch_peers.parse_args, ["--out", "x.json"] + bad), 2)

    def test_defaults(self):
        a = torch_peers.parse_args(["--out", "x.json"])
        self.assertEqual((a.reps, a.warmup, a.dry_run, a.filter), (30, 5, False, "."))


class PeerDryRunJson(unittest.TestCase):
    def dry(self, *extra):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "peers.json")
            self.assertEqual(quiet(torch_peers.main, ["--out", out, "--dry-run", *extra]), 0)
            with open(out) as f:
                return json.load(f)

    def test_google_benchmark_shape_one_entry_per_shape_and_peer(self):
        j = self.dry()
        self.assertIn("context", j)
        shapes = kit_shapes.kit_shapes()
        n_mm = sum(s.op == "matmul" for s in shapes)
        n_attn = len(shapes) - n_mm
        self.assertEqual(len(j["benchmarks"]), 3 * n_mm + 2 * n_attn)
        for b in j["benchmarks"]:
            for key in ("name", "run_name", "run_type", "iterations", "real_time", "time_unit", "error_occurred", "error_message"):
                self.assertIn(key, b)
            self.assertTrue(b["error_occurred"], "a dry run must not pretend to have timed anything")
            seg = b["name"].split("/")
            self.assertEqual(seg[1], "custom")
            self.assertEqual(seg[-1], torch_peers.DEVICE_SEGMENT)
            self.assertTrue(seg[-2].startswith("variant="))

    def test_names_carry_the_tags_xk_bench_writes(self):
        names = [b["name"] for b in self.dry()["benchmarks"]]
        self.assertIn("matmul/custom/M512_N6144_K4096/i8/i8/variant=torch_int_mm_cublaslt/torch:cuda:0", names)
        self.assertIn("attention/custom/prefill_B1_Hq32_Hkv8_S512_T512_D128_causal/f16/variant=sdpa_cudnn/torch:cuda:0", names)
        self.assertIn("attention/custom/decode_B1_Hq64_Hkv8_S1_T4096_D64_causal/f16/variant=sdpa_flash/torch:cuda:0", names)

    def test_filter_selects(self):
        j = self.dry("--filter", "attention/.*decode")
        self.assertEqual(len(j["benchmarks"]), 4)


def stand_in_torch(event_ms=0.5):
    """A torch whose calls do nothing and whose CUDA events say every call took event_ms."""
    torch = mock.MagicMock(name="torch")
    torch.__version__ = "0.0-stand-in"
    torch.version.cuda = "13.0"
    torch.backends.cudnn.version.return_value = 91000
    torch.cuda.is_available.return_value = True
    props = torch.cuda.get_device_properties.return_value
    props.name, props.multi_processor_count, props.total_memory = "NVIDIA H200", 132, 150_000_000_000
    torch.cuda.Event.return_value.elapsed_time.return_value = event_ms
    attention = mock.MagicMock(name="torch.nn.attention")
    return {"torch": torch, "torch.nn": torch.nn, "torch.nn.attention": attention}


class PeerGpuPathWithStandInTorch(unittest.TestCase):
    """The GPU path of torch_peers.py end to end against a stand-in torch: no GPU here, but a
    typo or a wrong argument in it would otherwise first show on the one GPU run."""

    def test_every_peer_is_timed_or_says_why_not(self):
        mods = stand_in_torch(event_ms=0.5)
        with tempfile.TemporaryDirectory() as d, mock.patch.dict(sys.modules, mods):
            out = os.path.join(d, "peers.json")
            self.assertEqual(quiet(torch_peers.main, ["--out", out, "--reps", "3", "--warmup", "1"]), 0)
            with open(out) as f:
                j = json.load(f)
        self.assertEqual(j["context"]["gpu"], "NVIDIA H200")
        errors = [b for b in j["benchmarks"] if b.get("error_occurred")]
        # torch._int_mm refuses M <= 16: the tg128 GEMMs (M = 1), one entry each, with the reason.
        self.assertTrue(errors)
        for b in errors:
            self.assertIn("torch_int_mm", b["name"])
            self.assertIn("M > 16", b["error_message"])
        timed_ = [b for b in j["benchmarks"] if not b.get("error_occurred")]
        self.assertEqual(len(timed_) + len(errors), len(j["benchmarks"]))
        for b in timed_:
            self.assertAlmostEqual(b["real_time"], 0.5)
            self.assertIn("pct_roofline", b, "an H200 has known peaks")
        # One spin kernel ahead of every timed call (3 reps per timed entry).
        self.assertEqual(mods["torch"].cuda._sleep.call_count, 3 * len(timed_))

    def test_decode_attention_is_not_masked_top_left(self):
        mods = stand_in_torch()
        sdpa = mods["torch"].nn.functional.scaled_dot_product_attention
        with tempfile.TemporaryDirectory() as d, mock.patch.dict(sys.modules, mods):
            quiet(torch_peers.main, ["--out", os.path.join(d, "p.json"), "--reps", "1", "--warmup", "0",
                                     "--filter", "attention/custom/decode"])
        self.assertTrue(sdpa.call_args_list)
        self.assertTrue(all(c.kwargs["is_causal"] is False for c in sdpa.call_args_list))


class Shapes(unittest.TestCase):
    def test_model_shapes_from_configs(self):
        mm = {s.label: s.dims for s in kit_shapes.kit_shapes() if s.op == "matmul"}
        self.assertEqual(mm["llama3-8b qkv pp512"], (512, 32 * 128 + 2 * 8 * 128, 4096))
        self.assertEqual(mm["llama3-8b down tg128"], (1, 4096, 14336))
        # 512 tokens x top-4 over 32 experts, balanced: 64 rows per expert.
        self.assertEqual(mm["gpt-oss-20b gate_up (per expert) pp512"], (64, 2 * 2880, 2880))

    def test_causal_offsets_match_xk_bench(self):
        attn = {s.label: s for s in kit_shapes.kit_shapes() if s.op == "attention"}
        self.assertEqual(attn["llama3-8b prefill pp512"].q_offset, 0)
        self.assertEqual(attn["llama3-8b decode T=4096"].q_offset, 4095)


class PeakArithmetic(unittest.TestCase):
    def test_compute_bound_gemm(self):
        # 2 TFLOP in 1 ms on int8 at 1978.9 Tops: 101.06% of peak; intensity 2000 FLOP/B puts
        # the roofline at the compute peak, so % roofline equals % peak.
        p = peaks.percent_of_peak(2e12, 1e9, 1e-3, H200, "int8_mma")
        self.assertAlmostEqual(p["pct_peak"], 100 * 2e15 / 1978.9e12, places=6)
        self.assertAlmostEqual(p["pct_roofline"], p["pct_peak"], places=9)
        self.assertAlmostEqual(p["pct_bw"], 100 * 1e12 / 4.8e12, places=6)

    def test_bandwidth_bound_gemv_is_held_to_bandwidth(self):
        # 2 GFLOP and 1 GB in 1 ms: intensity 2 FLOP/B, bound 2 * 4.8 TB/s = 9.6 TFLOP/s.
        p = peaks.percent_of_peak(2e9, 1e9, 1e-3, H200, "int8_mma")
        self.assertAlmostEqual(p["pct_roofline"], 100 * 2e12 / 9.6e12, places=6)
        self.assertAlmostEqual(p["pct_roofline"], p["pct_bw"], places=6)
        self.assertLess(p["pct_peak"], 0.2)

    def test_unknown_device_or_class_gives_none_not_zero(self):
        self.assertEqual(peaks.percent_of_peak(1, 1, 1, None, "int8_mma"), {"pct_peak": None, "pct_bw": None, "pct_roofline": None})
        p = peaks.percent_of_peak(1e12, 1e9, 1e-3, H200, "fp4_mma")
        self.assertIsNone(p["pct_peak"])
        self.assertIsNotNone(p["pct_bw"])

    def test_ratio_to_best_peer(self):
        self.assertAlmostEqual(peaks.ratio_to_best_peer(1e-3, [2e-3, 1.5e-3]), 1.5)
        self.assertAlmostEqual(peaks.ratio_to_best_peer(2e-3, [1e-3, 0.0]), 0.5)
        self.assertIsNone(peaks.ratio_to_best_peer(1e-3, []))
        self.assertIsNone(peaks.ratio_to_best_peer(0.0, [1e-3]))

    def test_instruction_classes(self):
        self.assertEqual(peaks.instruction_class("matmul", "q8"), "int8_mma")
        self.assertEqual(peaks.instruction_class("matmul", "bf16"), "f16_mma_f32acc")
        self.assertEqual(peaks.instruction_class("matmul", "fp4"), "fp4_mma")
        self.assertEqual(peaks.instruction_class("attention", "f32"), "f16_mma_f32acc")


class PeakLookup(unittest.TestCase):
    def test_product_names(self):
        self.assertEqual(peaks.device_key("NVIDIA H200"), "h200")
        self.assertEqual(peaks.device_key("NVIDIA H100 80GB HBM3"), "h100-sxm")
        self.assertIsNone(peaks.device_key("NVIDIA H100 PCIe"))
        self.assertIsNone(peaks.device_key("NVIDIA H200 NVL"))
        self.assertIsNone(peaks.device_key("NVIDIA GB10"))

    def test_database_first_then_datasheet_table(self):
        with tempfile.TemporaryDirectory() as d:
            db = os.path.join(d, "devices.json")
            fig = lambda v: {"value": v, "unit": "x", "kind": "published", "source": "t"}  # noqa: E731
            with open(db, "w") as f:
                json.dump({"devices": {"h200": {"peak": {"int8_mma": fig(1000.0)}, "memory": {"bandwidth_theoretical": fig(4000)}}}}, f)
            from_db = peaks.load_peaks("NVIDIA H200", db)
            self.assertEqual((from_db["peak_tops"]["int8_mma"], from_db["bandwidth_gbs"]), (1000.0, 4000.0))
            table = peaks.load_peaks("NVIDIA H100 80GB HBM3", db)  # not in this database
            self.assertIn("datasheet", table["source"])
            self.assertEqual(table["bandwidth_gbs"], 3350.0)
        self.assertIsNone(peaks.load_peaks("NVIDIA GB10", None))


def timed(name, flops, bytes_, seconds, peaks_=H200, klass="int8_mma"):
    return torch_peers.timed_entry(name, 0, {"flops": flops, "bytes": bytes_, "tokens": 1.0}, seconds, 10, "t", peaks_, klass)


class TimedEntries(unittest.TestCase):
    def test_rates_and_percent_counters(self):
        e = timed("matmul/custom/M512_N4096_K4096/i8/i8/variant=p/torch:cuda:0", 2e12, 1e9, 1e-3)
        self.assertEqual((e["real_time"], e["time_unit"], e["run_type"]), (1.0, "ms", "iteration"))
        self.assertAlmostEqual(e["FLOP/s"], 2e15)
        self.assertAlmostEqual(e["bytes/s"], 1e12)
        self.assertAlmostEqual(e["pct_peak"], 100 * 2e15 / 1978.9e12)
        self.assertNotIn("pct_peak", timed("x", 1, 1, 1, peaks_=None))

    def test_work_matches_xk_accounting(self):
        w = torch_peers.matmul_work(2, 3, 4, "f16", 2)
        self.assertEqual(w["flops"], 48.0)
        self.assertEqual(w["bytes"], 3 * 4 * 2 + 2 * 4 * 2 + 2 * 3 * 2)
        prefill = kit_shapes.Shape("attention", "t", (1, 2, 1, 4, 4, 8))
        # causal S = T = 4: 1 + 2 + 3 + 4 = 10 pairs per head; 4 * 2 heads * 8 * 10 FLOPs.
        self.assertEqual(torch_peers.attention_work(prefill)["flops"], 4 * 2 * 8 * 10)


class Comparison(unittest.TestCase):
    def test_row_joins_on_the_shape_tag_and_picks_the_fastest_peer(self):
        tag = "M512_N6144_K4096"
        xk = {"benchmarks": [{"name": f"matmul/custom/{tag}/q4_0/q8/cuda:0/manual_time", "run_type": "iteration",
                              "real_time": 2.0, "time_unit": "ms", "flops": 2 * 512 * 6144 * 4096.0, "bytes": 1e8,
                              "label": "variant=mmq_q4_0_q8_64x64_mma_sm80 act=q8 timer=device"}]}
        peers = {"benchmarks": [timed(f"matmul/custom/{tag}/i8/i8/variant=slow/torch:cuda:0", 1, 1, 4e-3),
                                timed(f"matmul/custom/{tag}/f16/f16/variant=fast/torch:cuda:0", 1, 1, 1e-3),
                                timed("matmul/custom/M1_N6144_K4096/f16/f16/variant=other/torch:cuda:0", 1, 1, 1e-6)]}
        rows = kit_report.compare(xk, peers, H200)
        self.assertEqual(len(rows), 1)
        r = rows[0]
        self.assertEqual((r["variant"], r["act"], r["best_peer"], r["class"]), ("mmq_q4_0_q8_64x64_mma_sm80", "q8", "fast", "int8_mma"))
        self.assertAlmostEqual(r["ratio_to_best_peer"], 0.5)
        self.assertAlmostEqual(r["pct_peak"], 100 * (2 * 512 * 6144 * 4096 / 2e-3) / 1978.9e12)
        self.assertEqual(r["shape"], "llama3-8b qkv pp512")
        self.assertIn("0.50x", kit_report.render_md(rows, H200, "NVIDIA H200"))


class StepRecords(unittest.TestCase):
    def test_steps_append_to_kit_json_and_summary(self):
        with tempfile.TemporaryDirectory() as d:
            kit_report.main(["init", "--out-dir", d, "--mode", "dry-run"])
            open(os.path.join(d, "a.txt"), "w").close()
            kit_report.main(["step", "--out-dir", d, "--name", "one", "--status", "ok", "--seconds", "1.26", "--files", "a.txt", "missing.txt"])
            kit_report.main(["step", "--out-dir", d, "--name", "two", "--status", "skipped", "--seconds", "0", "--reason", "skipped: no NVIDIA GPU"])
            with open(os.path.join(d, "kit.json")) as f:
                kit = json.load(f)
            self.assertEqual([s["name"] for s in kit["steps"]], ["one", "two"])
            self.assertEqual(kit["steps"][0]["files"], ["a.txt"], "a file the step did not write is not listed")
            self.assertEqual(kit["steps"][0]["seconds"], 1.3)
            with open(os.path.join(d, "summary.md")) as f:
                self.assertIn("| two | skipped | 0.0 | skipped: no NVIDIA GPU |", f.read())

    def test_nvidia_vulkan_device_is_found_past_llvmpipe(self):
        dev = lambda name, desc, arch, ok=True: {"name": name, "api": "vulkan", "available": ok, "description": desc, "info": {"arch": arch}}  # noqa: E731
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "devices.json")
            with open(f, "w") as fh:
                json.dump({"devices": [dev("vulkan:0", "llvmpipe (LLVM 15)", "llvmpipe"), dev("vulkan:1", "NVIDIA H200", "nvidia")]}, fh)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = kit_report.main(["devices", f, "--nvidia-vulkan"])
            self.assertEqual((rc, out.getvalue().splitlines()[0]), (0, "vulkan:1"))
            with open(f, "w") as fh:
                json.dump({"devices": [dev("vulkan:0", "llvmpipe (LLVM 15)", "llvmpipe")]}, fh)
            self.assertEqual(quiet(kit_report.main, ["devices", f, "--nvidia-vulkan"]), 1)

    def test_gtest_counts_complete_and_cut_off(self):
        done = "[ RUN      ] a.b\n[       OK ] a.b (1 ms)\n[  PASSED  ] 7 tests.\n[  SKIPPED ] 2 tests, listed below:\n[  FAILED  ] 1 test, listed below:\n[  FAILED  ] matmul/x/y\n"
        c = kit_report.gtest_counts(done)
        self.assertEqual((c["passed"], c["failed"], c["skipped"], c["complete"]), (7, 1, 2, True))
        self.assertEqual(c["failed_names"], ["matmul/x/y"])
        cut = "[       OK ] a.b (1 ms)\n[       OK ] a.c (1 ms)\n[  FAILED  ] matmul/z (3 ms)\n[ RUN      ] a.d\n"
        c = kit_report.gtest_counts(cut)
        self.assertEqual((c["passed"], c["failed"], c["complete"]), (2, 1, False))


DEVICE_KIT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "tools", "device-kit"))


class BundleCheck(unittest.TestCase):
    """tools/device-kit check: an executable needing a library a bare GPU machine lacks fails it."""

    def check(self, exe):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "bin"))
            with open(os.path.join(d, "run"), "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(os.path.join(d, "run"), 0o755)
            subprocess.run(["cp", exe, os.path.join(d, "bin", "prog")], check=True)
            return subprocess.run([DEVICE_KIT, "check", d], capture_output=True, text=True, timeout=60)

    def test_glibc_only_passes(self):
        r = self.check("/bin/true")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_library_outside_the_allowed_set_fails(self):
        # The Python running this links libraries beyond glibc (Debian's: libz, libexpat).
        exe = os.path.realpath(sys.executable)
        libs = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        if not any(x in libs for x in ("libz", "libexpat", "libpython")):
            self.skipTest(f"{exe} links nothing beyond glibc: no executable to fail the check with")
        r = self.check(exe)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"needs lib\S+, which a bare GPU machine lacks")


@unittest.skipUnless(os.environ.get("XK_TOOL") and os.path.exists(os.environ.get("XK_TOOL", "")), "XK_TOOL (the built xk) not given")
class XkReadsPeerJson(unittest.TestCase):
    def test_xk_compare_accepts_the_peers_file(self):
        # The gap model's reader (tools/gap/bench_json.cpp) is the one xk compare and xk explain use.
        j = {"context": {}, "benchmarks": [timed("matmul/custom/M512_N4096_K4096/f16/f16/variant=p/torch:cuda:0", 2 * 512 * 4096 * 4096.0, 1e8, 1e-4)]}
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "peers.json")
            with open(f, "w") as fh:
                json.dump(j, fh)
            r = subprocess.run([os.environ["XK_TOOL"], "compare", f, f, "--devices", "h100-sxm,h100-sxm", "--model", "llama3-70b"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("torch:cuda:0", r.stdout)
            # A file that is not bench JSON is refused by the same reader, so the check above can fail.
            with open(f, "w") as fh:
                json.dump({"context": {}}, fh)
            bad = subprocess.run([os.environ["XK_TOOL"], "compare", f, f, "--devices", "h100-sxm,h100-sxm"], capture_output=True, text=True, timeout=60)
            self.assertNotEqual(bad.returncode, 0)


if __name__ == "__main__":
    unittest.main()
