"""A Triton vector-add kernel through the runtime.
usage: triton_add.py compile DIR ARCH    (ARCH 80, 90, ... or "device")
       triton_add.py check SRC_ROOT DIR  (no GPU: load, parameters, raw counts)
       triton_add.py run SRC_ROOT DIR    (GPU + torch: launch and compare)
compile writes DIR/add_kernel.{json,ptx,cubin} as Triton's cache lays them out."""

import json
import os
import sys

os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")  # silences a 3.9 warning


def compile_kernel(directory, arch):
    import triton
    import triton.language as tl
    from triton.backends.compiler import GPUTarget

    @triton.jit
    def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
        pid = tl.program_id(0)
        offs = pid * BLOCK + tl.arange(0, BLOCK)
        m = offs < n
        tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=m) + tl.load(y_ptr + offs, mask=m),
                 mask=m)

    if arch == "device":
        import torch
        major, minor = torch.cuda.get_device_capability()
        arch = major * 10 + minor
    src = triton.compiler.ASTSource(
        fn=add_kernel,
        signature={"x_ptr": "*fp32", "y_ptr": "*fp32", "out_ptr": "*fp32", "n": "i32",
                   "BLOCK": "constexpr"},
        constexprs={"BLOCK": 1024})
    k = triton.compile(src, target=GPUTarget("cuda", int(arch), 32))
    metadata = k.metadata._asdict()
    t = metadata["target"]
    metadata["target"] = {"backend": t.backend, "arch": t.arch, "warp_size": t.warp_size}
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, metadata["name"])
    with open(base + ".json", "w") as f:
        json.dump(metadata, f, default=str)
    with open(base + ".ptx", "w") as f:
        f.write(k.asm["ptx"])
    with open(base + ".cubin", "wb") as f:
        f.write(k.asm["cubin"])
    print(f"compiled {metadata['name']} for sm_{t.arch}")


def binding(src_root):
    sys.path.insert(0, os.path.join(src_root, "runtime", "python"))
    import attn_runtime
    return attn_runtime


def check(src_root, directory):
    rt = binding(src_root)
    kernel = rt.Kernel(os.path.join(directory, "add_kernel.json"))
    print(f"loaded {kernel.name}: attention={kernel.is_attention} "
          f"param sizes {kernel.param_sizes}")
    # Any pointer values: with a wrong count nothing runs, and without a
    # device the launch stops at the driver.
    for args in ([0x1000, 0x1000], [0x1000, 0x1000, 0x1000, 4096, None, None, None]):
        try:
            kernel.launch_raw((4,), args)
        except rt.AttnError as e:
            print(f"{len(args)} args: {e.status}: {e.message}")
    try:
        kernel.launch_raw((4,), [0x1000, 0x1000, 0x1000, 4096])
        print("4 args: launched")
    except rt.AttnError as e:
        print(f"4 args: {e.status}: {e.message}")


def run(src_root, directory):
    import torch
    rt = binding(src_root)
    kernel = rt.Kernel(os.path.join(directory, "add_kernel.json"))
    n = 5000
    x = torch.randn(n, device="cuda")
    y = torch.randn(n, device="cuda")
    for scratch in ([], [None, None]):  # Triton's launcher passes NULL scratch
        out = torch.full((n,), float("nan"), device="cuda")
        kernel.launch_raw(((n + 1023) // 1024,), [x, y, out, n] + scratch)
        torch.cuda.synchronize()
        ok = torch.equal(out, x + y)
        print(f"vector add with {4 + len(scratch)} args: {'ok' if ok else 'WRONG'}")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "compile":
        compile_kernel(sys.argv[2], sys.argv[3])
    elif mode == "check":
        check(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[2], sys.argv[3])
