#!/usr/bin/env python3
"""The device kit's model shapes, in one place for `xk bench` and the PyTorch peers.

Each shape is one layer GEMM or one attention call of a model at a workload:
  pp512  prompt processing of 512 tokens: GEMMs with M = 512 and causal prefill
         attention S = T = 512
  tg128  token generation: GEMMs with M = 1 (GEMV) and one decode query over a
         4096-token KV cache (a context long enough that K/V traffic, not launch
         overhead, sets the time)
Mixture-of-experts FFNs run per expert: at pp512 with top-k of E experts, balanced
routing gives each expert 512 * k / E tokens (gpt-oss-20b: 512 * 4 / 32 = 64).

Sources (Hugging Face config.json of each model):
  Llama-3-8B   meta-llama/Meta-Llama-3-8B: hidden_size 4096, intermediate_size 14336,
               num_attention_heads 32, num_key_value_heads 8, head_dim 128
  gpt-oss-20b  openai/gpt-oss-20b: hidden_size 2880, intermediate_size 2880 (per expert),
               num_attention_heads 64, num_key_value_heads 8, head_dim 64,
               num_local_experts 32, num_experts_per_tok 4

Names follow bench/bench.h so both sides of a comparison join on the shape tag:
  matmul/custom/M512_N6144_K4096/...   attention/custom/prefill_B1_Hq32_Hkv8_S512_T512_D128_causal/...

  python3 kit_shapes.py     one line per shape, most valuable first (prefill, then decode):
                            op <tab> xk bench --shape argument <tab> format <tab> label
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

# format: the weight format xkern is benchmarked with on that model's shapes (the one its
# released quantizations use most: Q4_0 for Llama, MXFP4 as gpt-oss ships); one format per
# model keeps the GPU step within its minutes.
MODELS = {
    "llama3-8b": dict(label="Llama-3 8B", format="q4_0", hidden=4096, ffn=14336, heads=32, kv_heads=8, head_dim=128, experts=1, top_k=1),
    "gpt-oss-20b": dict(label="gpt-oss-20b", format="mxfp4", hidden=2880, ffn=2880, heads=64, kv_heads=8, head_dim=64, experts=32, top_k=4),
}
PROMPT_TOKENS = 512
DECODE_CONTEXT = 4096


@dataclass(frozen=True)
class Shape:
    op: str            # "matmul" or "attention"
    label: str         # "llama3-8b qkv pp512"
    dims: tuple        # matmul (M, N, K); attention (B, Hq, Hkv, S, T, D)
    format: str = ""   # matmul: xkern's weight format for this shape
    causal: bool = True

    @property
    def tag(self) -> str:
        """The shape segment of the benchmark name, as bench/cases.cpp writes it."""
        if self.op == "matmul":
            m, n, k = self.dims
            return f"M{m}_N{n}_K{k}"
        b, hq, hkv, s, t, d = self.dims
        kind = "decode" if s == 1 else "prefill"
        return f"{kind}_B{b}_Hq{hq}_Hkv{hkv}_S{s}_T{t}_D{d}" + ("_causal" if self.causal else "")

    @property
    def xk_shape(self) -> str:
        return ",".join(str(x) for x in self.dims)

    @property
    def q_offset(self) -> int:
        """Absolute position of query 0 (xk bench's custom attention: T - S when causal)."""
        if self.op != "attention" or not self.causal:
            return 0
        _, _, _, s, t, _ = self.dims
        return max(0, t - s)


def layer_gemms(m: dict) -> list[tuple[str, int, int, bool]]:
    """(name, N, K, per_expert) of one layer: Y[M,N] = X[M,K] W[N,K]^T."""
    q = m["heads"] * m["head_dim"]
    kv = m["kv_heads"] * m["head_dim"]
    moe = m["experts"] > 1
    return [("qkv", q + 2 * kv, m["hidden"], False), ("o", m["hidden"], q, False),
            ("gate_up", 2 * m["ffn"], m["hidden"], moe), ("down", m["hidden"], m["ffn"], moe)]


def kit_shapes() -> list[Shape]:
    out: list[Shape] = []
    seen: set[tuple[str, str]] = set()

    def add(s: Shape) -> None:
        if (s.op, s.tag) not in seen:  # two models may share a shape; time it once
            seen.add((s.op, s.tag))
            out.append(s)

    for key, m in MODELS.items():
        for workload, tokens in (("pp512", PROMPT_TOKENS), ("tg128", 1)):
            for name, n, k, per_expert in layer_gemms(m):
                rows = tokens
                if per_expert and tokens > 1:
                    rows = tokens * m["top_k"] // m["experts"]
                add(Shape("matmul", f"{key} {name}{' (per expert)' if per_expert else ''} {workload}", (rows, n, k), m["format"]))
        h = (1, m["heads"], m["kv_heads"])
        add(Shape("attention", f"{key} prefill pp512", h + (PROMPT_TOKENS, PROMPT_TOKENS, m["head_dim"])))
        add(Shape("attention", f"{key} decode T={DECODE_CONTEXT}", h + (1, DECODE_CONTEXT, m["head_dim"])))
    return out


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    shapes = kit_shapes()
    prefill = [s for s in shapes if s.dims[0] > 1 or (s.op == "attention" and s.dims[3] > 1)]
    for s in prefill + [s for s in shapes if s not in prefill]:
        print(f"{s.op}\t{s.xk_shape}\t{s.format or '-'}\t{s.label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
