"""Compiles naive_attention.cu into kernel artefacts (NAME.json, .cubin,
.ptx) for several attention variants, with nvcc.
usage: naive_artefacts.py DIR ARCH   (ARCH 80, 90, ... or "device")"""

import math
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artefact_json as aj  # noqa: E402

VARIANTS = [
    # Every optional operand, bottom-right causal, GQA 4, > 48 KiB of
    # (unused) dynamic shared memory to exercise the opt-in.
    dict(name="naive_bf16_causal_mask_lengths_lse", dtype="bf16", q_heads=8,
         kv_heads=2, head_dim=128, value_dim=128, causal=True,
         alignment="bottom_right", mask_dtype="bool", lengths_dtype="i32",
         lse=True, shared=65536),
    dict(name="naive_f16_plain", dtype="f16", q_heads=4, kv_heads=4,
         head_dim=64, value_dim=64),
    # An additive f32 mask, i64 lengths, a two-sided window, softcap, Dv != D.
    dict(name="naive_bf16_window_softcap_fmask", dtype="bf16", q_heads=6,
         kv_heads=3, head_dim=80, value_dim=64, softcap=20.0, window=(32, 8),
         mask_dtype="f32", lengths_dtype="i64"),
    dict(name="naive_f16_branches_lse", dtype="f16", q_heads=4, kv_heads=1,
         head_dim=64, value_dim=64, causal=True, branches=(16, 4),
         alignment="bottom_right", lse=True),
]

C_TYPES = {"f16": "__half", "bf16": "__nv_bfloat16", "f32": "float",
           "bool": "bool", "i32": "int", "i64": "long long"}


def nvcc():
    root = os.environ.get("CUDA_PATH", "/usr/local/cuda")
    path = os.path.join(root, "bin", "nvcc")
    return path if os.path.exists(path) else shutil.which("nvcc")


def device_arch():
    out = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                         capture_output=True, text=True, check=True).stdout
    major, minor = out.split()[0].split(".")
    return int(major) * 10 + int(minor)


def build(directory, arch, v):
    scale = 1 / math.sqrt(v["head_dim"])
    window = v.get("window", (-1, -1))
    branches = v.get("branches") or (0, 0)
    defines = {
        "NAME": v["name"], "ELEM": C_TYPES[v["dtype"]], "D": v["head_dim"],
        "DV": v["value_dim"], "GROUP": v["q_heads"] // v["kv_heads"],
        "SCALE": f"{scale!r}f",
        "CAUSAL": int(v.get("causal", False)),
        "BOTTOM_RIGHT": int(v.get("alignment") == "bottom_right"),
        "WINDOW_LEFT": window[0], "WINDOW_RIGHT": window[1],
        "BRANCH_P": branches[0], "BRANCH_N": branches[1],
    }
    if v.get("softcap"):
        defines["SOFTCAP"] = f"{v['softcap']!r}f"
    if v.get("mask_dtype"):
        defines["MASK_T"] = C_TYPES[v["mask_dtype"]]
    if v.get("lengths_dtype"):
        defines["LEN_T"] = C_TYPES[v["lengths_dtype"]]
    if v.get("lse"):
        defines["HAS_LSE"] = 1
    flags = [f"-D{k}={val}" for k, val in defines.items()]
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "naive_attention.cu")
    base = os.path.join(directory, v["name"])
    for kind in ("cubin", "ptx"):
        subprocess.run([nvcc(), f"-{kind}", f"-arch=sm_{arch}", "-O3", *flags, source,
                        "-o", f"{base}.{kind}"], check=True)
    meta = aj.attention_json(
        v["name"], arch, v["dtype"], v["q_heads"], v["kv_heads"], v["head_dim"],
        v["value_dim"], scale, softcap=v.get("softcap", 0.0),
        causal=v.get("causal", False), window=window, branches=v.get("branches"),
        alignment=v.get("alignment", "top_left"), mask_dtype=v.get("mask_dtype"),
        lengths_dtype=v.get("lengths_dtype"), lse=v.get("lse", False),
        shared=v.get("shared", 0))
    return aj.write_json(directory, v["name"], meta)


if __name__ == "__main__":
    directory, arch = sys.argv[1], sys.argv[2]
    arch = device_arch() if arch == "device" else int(arch)
    os.makedirs(directory, exist_ok=True)
    for v in VARIANTS:
        print(build(directory, arch, v))
