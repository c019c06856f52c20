"""Kernel artefacts (docs/artefacts.md) for tests: NAME.json through the
runtime's one writer (the attn-artefact-json tool), and an empty PTX kernel
with a given parameter list (enough for every runtime step but computing)."""

import json
import os
import subprocess


def attention_json(writer, flags):
    """The NAME.json object attn-artefact-json writes for `flags`
    (["--dtype=bf16", "--group=2", ...])."""
    out = subprocess.run([writer, *flags], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{writer} {' '.join(flags)}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def param_sizes(args):
    """Byte sizes of the parameters in an "args" list: pointers and i64 8."""
    return [8 if a["kind"] == "tensor" or a["dtype"] == "i64" else 4 for a in args]


def empty_kernel_ptx(name, sizes):
    params = ",\n".join(
        f"\t.param {'.u64 .ptr .global .align 1' if s == 8 else '.u32'} {name}_param_{i}"
        for i, s in enumerate(sizes))
    return (".version 7.0\n.target sm_80\n.address_size 64\n\n"
            f".visible .entry {name}(\n{params}\n)\n{{\n\tret;\n}}\n")


def write_json(directory, file, metadata):
    path = os.path.join(directory, file + ".json")
    with open(path, "w") as f:
        json.dump(metadata, f, indent=2)
    return path
