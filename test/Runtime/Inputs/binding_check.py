"""Exercises runtime/python/attn_runtime.py without torch or a GPU: tensors
are stand-ins with torch's interface, the kernel an empty PTX one.
usage: binding_check.py SRC_ROOT SCRATCH_DIR WRITER (attn-artefact-json)"""

import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "runtime", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import artefact_json as aj  # noqa: E402
from attn_runtime import AttnError, Kernel  # noqa: E402

assert "torch" not in sys.modules


class FakeDType:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return "torch." + self.name


class FakeTensor:
    """A device buffer at a fake address; torch's tensor interface."""

    def __init__(self, address, dtype, shape, strides=None):
        self.address, self.dtype, self.shape = address, FakeDType(dtype), tuple(shape)
        if strides is None:
            strides, step = [], 1
            for n in reversed(shape):
                strides.insert(0, step)
                step *= n
        self.strides = tuple(strides)

    def data_ptr(self):
        return self.address

    def stride(self):
        return self.strides


scratch = sys.argv[2]
os.makedirs(scratch, exist_ok=True)
meta = aj.attention_json(sys.argv[3], [
    "--dtype=bf16", "--group=2", "--head-dim=64", "--scale=0.125", "--causal",
    "--bottom-right", "--lse", "--plan=sm_80,128,64,4,2"])
path = aj.write_json(scratch, "attn_fake", meta)
with open(os.path.join(scratch, "attn_fake.ptx"), "w") as f:
    f.write(aj.empty_kernel_ptx(meta["name"], aj.param_sizes(meta["attn"]["args"])))

kernel = Kernel(path)
print(f"load: {kernel.name} attention={kernel.is_attention} params={len(kernel.param_sizes)}")

B, Hq, Hkv, Sq, Skv, D = 2, 4, 2, 130, 1029, 64
q = FakeTensor(0x100000, "bfloat16", (B, Hq, Sq, D))
k = FakeTensor(0x200000, "bfloat16", (B, Hkv, Skv, D))
v = FakeTensor(0x300000, "bfloat16", (B, Hkv, Skv, D))
out = FakeTensor(0x400000, "bfloat16", (B, Hq, Sq, D))
lse = FakeTensor(0x500000, "float32", (B, Hq, Sq))
print("grid:", kernel.check(q, k, v, out, lse=lse))
# [B, S, H, D] buffers, as x.transpose(1, 2) passes them.
q_bshd = FakeTensor(0x100000, "bfloat16", (B, Hq, Sq, D), (Sq * Hq * D, D, Hq * D, 1))
print("bshd view grid:", kernel.check(q_bshd, k, v, out, lse=lse))


def expect_error(what, fn):
    try:
        fn()
    except AttnError as e:
        print(f"{what}: {e.status}: {e.message}")
    else:
        print(f"{what}: no error")


expect_error("wrong dtype", lambda: kernel.check(
    FakeTensor(0x100000, "float16", (B, Hq, Sq, D)), k, v, out, lse=lse))
expect_error("unsupported dtype", lambda: kernel.check(
    FakeTensor(0x100000, "float64", (B, Hq, Sq, D)), k, v, out, lse=lse))
expect_error("no lse", lambda: kernel.check(q, k, v, out))
expect_error("unexpected mask", lambda: kernel.check(
    q, k, v, out, mask=FakeTensor(0x600000, "bool", (B, 1, Sq, Skv + 11)), lse=lse))
expect_error("null pointer", lambda: kernel.check(
    q, FakeTensor(0, "bfloat16", (B, Hkv, Skv, D)), v, out, lse=lse))
expect_error("offsets not compiled", lambda: kernel.check(
    q, k, v, out, q_offsets=FakeTensor(0x600000, "int32", (B,)), lse=lse))
expect_error("missing file", lambda: Kernel(os.path.join(scratch, "none.json")))
# A folder or a device as the path: an error, never a crash or a hang.
expect_error("folder", lambda: Kernel(scratch))
expect_error("device", lambda: Kernel("/dev/zero"))
expect_error("launch", lambda: kernel.launch(q, k, v, out, lse=lse))
expect_error("raw count", lambda: kernel.launch_raw((1,), [q, k]))
kernel.close()
print("done")
