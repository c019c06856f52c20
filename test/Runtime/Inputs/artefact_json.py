"""The kernel artefact format of docs/artefacts.md, restated for tests: the
attention ABI's parameter list, NAME.json, and an empty PTX kernel with a
given parameter list (enough for every runtime step but computing)."""

import json
import os


def abi_args(dtype, mask_dtype=None, lengths_dtype=None, lse=False):
    args = [("q", "tensor", dtype), ("k", "tensor", dtype), ("v", "tensor", dtype)]
    if mask_dtype:
        args.append(("mask", "tensor", mask_dtype))
    if lengths_dtype:
        args.append(("kv_lengths", "tensor", lengths_dtype))
    args.append(("out", "tensor", dtype))
    if lse:
        args.append(("lse", "tensor", "f32"))
    args += [("batch", "scalar", "i32"), ("seq_q", "scalar", "i32"),
             ("seq_kv", "scalar", "i32")]
    if mask_dtype:
        args.append(("mask_keys", "scalar", "i32"))
    operands = ["q", "k", "v", "out"] + (["mask"] if mask_dtype else []) + \
        (["lse"] if lse else [])
    for op in operands:
        args += [(f"{op}_stride_{axis}", "scalar", "i64") for axis in "bhs"]
    return [{"name": n, "kind": k, "dtype": t} for n, k, t in args]


def param_sizes(args):
    return [8 if a["kind"] == "tensor" or a["dtype"] == "i64" else 4 for a in args]


def attention_json(name, arch, dtype, q_heads, kv_heads, head_dim, value_dim,
                   scale, softcap=0.0, causal=False, window=(-1, -1),
                   branches=None, alignment="top_left", mask_dtype=None,
                   lengths_dtype=None, lse=False, num_warps=4, shared=0,
                   grid=None, q_positions_per_block=128):
    grid = grid or {"x": {"ceil_div": ["seq_q", q_positions_per_block]},
                    "y": {"value": q_heads}, "z": {"arg": "batch"}}
    return {
        "name": name, "num_warps": num_warps, "num_stages": 1, "num_ctas": 1,
        "shared": shared,
        "target": {"backend": "cuda", "arch": arch, "warp_size": 32},
        "attn": {
            "version": 1, "op": "attention", "dtype": dtype,
            "q_heads": q_heads, "kv_heads": kv_heads, "group": q_heads // kv_heads,
            "head_dim": head_dim, "value_dim": value_dim,
            "scale": scale, "softcap": softcap, "causal": causal,
            "window": list(window), "branches": list(branches) if branches else None,
            "alignment": alignment, "mask_dtype": mask_dtype,
            "lengths_dtype": lengths_dtype, "lse": lse,
            "block": [32 * num_warps, 1, 1], "grid": grid,
            "q_positions_per_block": q_positions_per_block,
            "args": abi_args(dtype, mask_dtype, lengths_dtype, lse),
        },
    }


def empty_kernel_ptx(name, sizes):
    params = ",\n".join(
        f"\t.param {'.u64 .ptr .global .align 1' if s == 8 else '.u32'} {name}_param_{i}"
        for i, s in enumerate(sizes))
    return (".version 7.0\n.target sm_80\n.address_size 64\n\n"
            f".visible .entry {name}(\n{params}\n)\n{{\n\tret;\n}}\n")


def write_json(directory, name, metadata):
    path = os.path.join(directory, name + ".json")
    with open(path, "w") as f:
        json.dump(metadata, f, indent=2)
    return path
