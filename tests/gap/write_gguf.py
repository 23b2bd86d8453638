#!/usr/bin/env python3
"""Writes a small GGUF header (metadata + tensor list, no weights) with the `gguf` package,
the GGUF ecosystem's own writer, for xk_gap_tests to read.

usage: write_gguf.py OUT {dense|moe|moe-bias}
  dense:    a 2-layer "llama" with Q4_K matrices and Q6_K attn_v / ffn_down / output
  moe:      a 2-layer "qwen3moe" with 8 experts (2 per token), MXFP4 experts, Q8_0 attention
            and per-head q/k RMS norm weights (blk.N.attn_q_norm / attn_k_norm, as Qwen3 files)
  moe-bias: moe plus F32 biases on the three expert GEMMs (blk.N.ffn_*_exps.bias, as gpt-oss)
Exits 77 when the gguf package is missing (the test skips with that reason).
"""
import sys

try:
    import numpy as np
    import gguf
except ImportError as e:  # the caller turns this into a skip
    print(f"gguf package not importable: {e}", file=sys.stderr)
    sys.exit(77)

HIDDEN, FFN, HEADS, KV_HEADS, HEAD_DIM, LAYERS, VOCAB = 256, 512, 8, 2, 32, 2, 1024
EXPERTS, USED, EXPERT_FFN = 8, 2, 256
T = gguf.GGMLQuantizationType


def add(w, name, shape, qtype):
    """shape in numpy order (outermost first): a weight W[n, k] is (n, k), experts (e, n, k)."""
    block, type_size = gguf.GGML_QUANT_SIZES[qtype]
    n_elem = int(np.prod(shape))
    w.add_tensor_info(name, shape, np.dtype(np.float32), n_elem // block * type_size, raw_dtype=qtype)


def main():
    out, kind = sys.argv[1], sys.argv[2]
    arch = "llama" if kind == "dense" else "qwen3moe"
    w = gguf.GGUFWriter(out, arch)
    w.add_name(f"xk-test-{kind}")
    w.add_block_count(LAYERS)
    w.add_context_length(4096)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    if kind == "moe":
        w.add_expert_count(EXPERTS)
        w.add_expert_used_count(USED)
        w.add_expert_feed_forward_length(EXPERT_FFN)
    mat = T.Q4_K if kind == "dense" else T.Q8_0
    add(w, "token_embd.weight", (VOCAB, HIDDEN), mat)
    for i in range(LAYERS):
        b = f"blk.{i}."
        add(w, b + "attn_norm.weight", (HIDDEN,), T.F32)
        add(w, b + "attn_q.weight", (HEADS * HEAD_DIM, HIDDEN), mat)
        add(w, b + "attn_k.weight", (KV_HEADS * HEAD_DIM, HIDDEN), mat)
        add(w, b + "attn_v.weight", (KV_HEADS * HEAD_DIM, HIDDEN), T.Q6_K if kind == "dense" else mat)
        add(w, b + "attn_output.weight", (HIDDEN, HEADS * HEAD_DIM), mat)
        if kind != "dense":
            add(w, b + "attn_q_norm.weight", (HEAD_DIM,), T.F32)
            add(w, b + "attn_k_norm.weight", (HEAD_DIM,), T.F32)
        add(w, b + "ffn_norm.weight", (HIDDEN,), T.F32)
        if kind == "dense":
            add(w, b + "ffn_gate.weight", (FFN, HIDDEN), T.Q4_K)
            add(w, b + "ffn_up.weight", (FFN, HIDDEN), T.Q4_K)
            add(w, b + "ffn_down.weight", (HIDDEN, FFN), T.Q6_K)
        else:
            add(w, b + "ffn_gate_inp.weight", (EXPERTS, HIDDEN), T.F32)
            add(w, b + "ffn_gate_exps.weight", (EXPERTS, EXPERT_FFN, HIDDEN), T.MXFP4)
            add(w, b + "ffn_up_exps.weight", (EXPERTS, EXPERT_FFN, HIDDEN), T.MXFP4)
            add(w, b + "ffn_down_exps.weight", (EXPERTS, HIDDEN, EXPERT_FFN), T.MXFP4)
            if kind == "moe-bias":
                add(w, b + "ffn_gate_exps.bias", (EXPERTS, EXPERT_FFN), T.F32)
                add(w, b + "ffn_up_exps.bias", (EXPERTS, EXPERT_FFN), T.F32)
                add(w, b + "ffn_down_exps.bias", (EXPERTS, HIDDEN), T.F32)
    add(w, "output_norm.weight", (HIDDEN,), T.F32)
    add(w, "output.weight", (VOCAB, HIDDEN), T.Q6_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    w.close()


if __name__ == "__main__":
    main()
