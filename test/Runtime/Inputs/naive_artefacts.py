"""Compiles naive_attention.cu into kernel artefacts (FILE.json, .cubin,
.ptx) for several attention variants: the .json from the runtime's writer
(attn-artefact-json), the kernel configured from that .json's "attn" section.
usage: naive_artefacts.py DIR ARCH WRITER   (ARCH 80, 90, ... or "device";
                                             WRITER the attn-artefact-json)"""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artefact_json as aj  # noqa: E402

VARIANTS = {
    # Every optional operand but q_offsets, bottom-right causal, GQA 4, more
    # than 48 KiB of (unused) dynamic shared memory to exercise the opt-in.
    "naive_bf16_causal_mask_lengths_lse": [
        "--dtype=bf16", "--group=4", "--head-dim=128", "--causal",
        "--bottom-right", "--mask=bool", "--lengths=i32", "--lse",
        "--plan={target},128,64,4,2"],
    "naive_f16_plain": ["--dtype=f16", "--group=1", "--head-dim=64",
                        "--plan={target},64,64,4,2"],
    # An additive f32 mask, i64 lengths, a two-sided window, softcap, Dv != D.
    "naive_bf16_window_softcap_fmask": [
        "--dtype=bf16", "--group=2", "--head-dim=80", "--value-dim=64",
        "--softcap=20", "--window=32,8", "--mask=f32", "--lengths=i64",
        "--plan={target},64,64,4,2"],
    "naive_f16_branches_lse": [
        "--dtype=f16", "--group=4", "--head-dim=64", "--causal",
        "--branches=16,4", "--bottom-right", "--lse", "--plan={target},64,32,4,2"],
    # Per-batch query offsets (random in attn-gpu-test), causal, lse.
    "naive_f16_causal_offsets_lse": [
        "--dtype=f16", "--group=2", "--head-dim=64", "--causal",
        "--offsets=i32", "--lse", "--plan={target},64,64,4,2"],
    # A static query offset, two warps.
    "naive_bf16_causal_offset5": [
        "--dtype=bf16", "--group=1", "--head-dim=64", "--causal",
        "--query-offset=5", "--plan={target},64,64,2,2"],
}

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


def defines(meta):
    """The -D flags that make naive_attention.cu the kernel `meta` describes."""
    a = meta["attn"]
    window = a["window"] or (-1, -1)
    branches = a["branches"] or (0, 0)
    d = {
        "NAME": meta["name"], "ELEM": C_TYPES[a["dtype"]], "D": a["head_dim"],
        "DV": a["value_dim"], "GROUP": a["group"],
        "POSITIONS": a["grid"]["x"]["ceil_div"][1],
        "SCALE": f"{a['scale']!r}f", "CAUSAL": int(a["causal"]),
        "BOTTOM_RIGHT": int(a["alignment"] == "bottom_right"),
        "WINDOW_LEFT": window[0], "WINDOW_RIGHT": window[1],
        "BRANCH_P": branches[0], "BRANCH_N": branches[1],
    }
    optional = {"SOFTCAP": f"{a['softcap']!r}f" if a["softcap"] else None,
                "QUERY_OFFSET": a["query_offset"],
                "MASK_T": C_TYPES.get(a["mask_dtype"]),
                "LEN_T": C_TYPES.get(a["lengths_dtype"]),
                "OFF_T": C_TYPES.get(a["offsets_dtype"]),
                "HAS_LSE": 1 if a["lse"] else None}
    d.update({k: v for k, v in optional.items() if v is not None})
    return [f"-D{k}={v}" for k, v in d.items()]


def build(directory, arch, writer, file, flags):
    # The artefact's target is the plan's (sm_80 or sm_90); the cubin is for
    # the actual device, which runs it when its major version matches.
    target = "sm_90" if arch >= 90 else "sm_80"
    meta = aj.attention_json(writer, [f.format(target=target) for f in flags])
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "naive_attention.cu")
    base = os.path.join(directory, file)
    for kind in ("cubin", "ptx"):
        subprocess.run([nvcc(), f"-{kind}", f"-arch=sm_{arch}", "-O3", *defines(meta),
                        source, "-o", f"{base}.{kind}"], check=True)
    return aj.write_json(directory, file, meta)


if __name__ == "__main__":
    directory, arch, writer = sys.argv[1], sys.argv[2], sys.argv[3]
    arch = device_arch() if arch == "device" else int(arch)
    os.makedirs(directory, exist_ok=True)
    for file, flags in VARIANTS.items():
        print(build(directory, arch, writer, file, flags))
