"""Launches the naive f16 kernel (naive_artefacts.py) through the Python
binding on PyTorch tensors and compares it with PyTorch's attention.
usage: naive_torch_check.py SRC_ROOT DIR"""

import os
import sys

import torch

sys.path.insert(0, os.path.join(sys.argv[1], "runtime", "python"))
from attn_runtime import AttnError, Kernel  # noqa: E402

torch.manual_seed(0)
kernel = Kernel(os.path.join(sys.argv[2], "naive_f16_plain.json"))
B, H, Sq, Skv, D = 2, 4, 77, 130, 64
dev = dict(device="cuda", dtype=torch.float16)
# [B, S, H, D] buffers, passed as [B, H, S, D] views.
q = torch.randn(B, Sq, H, D, **dev).transpose(1, 2)
k = torch.randn(B, Skv, H, D, **dev).transpose(1, 2)
v = torch.randn(B, H, Skv, D, **dev)
ref = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float())


def relative_error(out):
    return ((out.float() - ref).norm() / ref.norm()).item()


out = torch.full((B, Sq, H, D), float("nan"), **dev).transpose(1, 2)
kernel.launch(q, k, v, out)
torch.cuda.synchronize()
print("current stream, bshd views:", "ok" if relative_error(out) < 3e-3 else relative_error(out))

side = torch.cuda.Stream()
out2 = torch.empty(B, H, Sq, D, **dev)
with torch.cuda.stream(side):
    kernel.launch(q, k, v, out2)  # torch's current stream is now `side`
side.synchronize()
print("side stream:", "ok" if relative_error(out2) < 3e-3 else relative_error(out2))

for what, args in [("cpu tensor", (q.cpu(), k, v, out)),
                   ("wrong dtype", (q.to(torch.bfloat16), k, v, out)),
                   ("misaligned", (torch.empty(B * H * Sq * D + 1, **dev)[1:].view(B, H, Sq, D),
                                   k, v, out))]:
    try:
        kernel.launch(*args)
        print(f"{what}: no error")
    except AttnError as e:
        print(f"{what}: {e.status}: {e.message}")
