#!/usr/bin/env python3
"""Compiled attention kernels on a CUDA GPU, next to PyTorch.

    python3 bench/gpu_bench.py --check DIR...   every kernel (*.json) against an fp32 PyTorch reference
    python3 bench/gpu_bench.py --bench DIR      TFLOP/s of ours, SDPA (flash) and FlexAttention
    python3 bench/gpu_bench.py --sparse DIR     NSA's attention branches and MoBA against our
                                                dense causal kernel at 16k-64k keys

Kernels come from attn-compile (see tools/gpu-check.sh); they are launched
through the runtime's ctypes binding (runtime/python/attn_runtime.py) on the
same tensors PyTorch uses, timed with CUDA events.
"""
import argparse
import glob
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime", "python"))
from attn_runtime import Kernel  # noqa: E402

DTYPES = {"f16": torch.float16, "bf16": torch.bfloat16}
TOLERANCE = {"f16": 3e-3, "bf16": 1e-2}


def heads(meta, kv_heads):
    """(query heads, key/value heads): a kernel serves any head count; its
    JSON fixes only the group size."""
    return kv_heads * meta["group"], kv_heads


def selection_heads(meta, hq, hkv):
    """Heads of a block-sparse selection: 1 (shared), Hkv or Hq."""
    return {"shared": 1, "kv": hkv, "q": hq}[meta["block_heads"]]


def block_lists(meta, b, hq, hkv, sq, skv, gen, entries=6):
    """Random lists idx[B, Hsel, ceil(Sq / q_block), K] with -1 padding,
    duplicates (the last entry repeats the one two before) and entries past
    the keys (which the kernel skips); list 0 is empty. Returns what the
    kernel gets and what the reference gets (entries past the keys -1)."""
    qb, kb = meta["block_sizes"]
    blocks = (skv + kb - 1) // kb
    shape = (b, selection_heads(meta, hq, hkv), (sq + qb - 1) // qb, entries)
    idx = torch.randint(-1, blocks + 2, shape, device=gen.device, generator=gen, dtype=torch.int32)
    idx[..., -1] = idx[..., -3]
    idx.view(-1, entries)[0] = -1
    return idx, torch.where(idx < blocks, idx, torch.full_like(idx, -1))


def listed_keys(meta, idx, hq, sq, skv):
    """[B, Hq, Sq, Skv]: whether query row i's list names key j's block."""
    qb, kb = meta["block_sizes"]
    b, hsel, nqb, _ = idx.shape
    blocks = (skv + kb - 1) // kb
    named = torch.zeros(b, hsel, nqb, blocks + 1, dtype=torch.bool, device=idx.device)
    named.scatter_(3, torch.where(idx < 0, torch.full_like(idx, blocks), idx).long(), True)
    named = named[..., :blocks]
    rows = named[:, :, torch.arange(sq, device=idx.device) // qb]           # [B, Hsel, Sq, blocks]
    keys = rows[..., torch.arange(skv, device=idx.device) // kb]             # [B, Hsel, Sq, Skv]
    return keys.repeat_interleave(hq // hsel, dim=1)


def reference(q, k, v, meta, mask=None, lengths=None, offsets=None, blocks=None):
    """fp32 attention per the semantics contract; [B, H, S, D] in, out and lse.
    `blocks`: the reference's block lists of a block-sparse kernel."""
    b, hq, sq, _ = q.shape
    skv = k.shape[2]
    g = hq // k.shape[1]
    kf = k.float().repeat_interleave(g, dim=1)
    vf = v.float().repeat_interleave(g, dim=1)
    s = (q.float() @ kf.transpose(-1, -2)) * meta["scale"]
    if meta["softcap"]:
        s = meta["softcap"] * torch.tanh(s / meta["softcap"])
    i = torch.arange(sq, device=q.device)[:, None]
    j = torch.arange(skv, device=q.device)[None, :]
    valid = torch.full((b,), skv, device=q.device) if lengths is None else lengths.long()
    vis = torch.ones(b, 1, sq, skv, dtype=torch.bool, device=q.device)
    for bi in range(b):
        if offsets is not None:
            off = int(offsets[bi])
        elif meta.get("query_offset") is not None:
            off = meta["query_offset"]
        else:
            off = int(valid[bi]) - sq if meta["alignment"] == "bottom_right" else 0
        p = i + off
        if meta.get("compressed_keys"):  # key j pools keys [j*d, j*d + l - 1]
            l, d = meta["compressed_keys"]
            p = torch.div(p - (l - 1), d, rounding_mode="floor")
        m = j < int(valid[bi])
        if meta["causal"]:
            m = m & (j <= p)
        w = meta.get("window") or [-1, -1]
        if w[0] >= 0:
            m = m & (j >= p - w[0])
        if w[1] >= 0:
            m = m & (j <= p + w[1])
        vis[bi, 0] = m
    if blocks is not None:
        vis = vis & listed_keys(meta, blocks, hq, sq, skv)
    if mask is not None:
        if mask.dtype == torch.bool:
            vis = vis & mask
        else:
            s = s + mask.float()
    s = s.masked_fill(~vis, float("-inf"))
    mx = s.amax(-1, keepdim=True)
    empty = torch.isinf(mx) & (mx < 0)
    p = torch.exp(s - torch.where(empty, torch.zeros_like(mx), mx))
    l = p.sum(-1, keepdim=True)
    out = torch.where(l > 0, (p @ vf) / l.clamp_min(1e-30), torch.zeros(1, device=q.device))
    lse = torch.where(l > 0, torch.log(l.clamp_min(1e-30)) + mx, torch.full_like(l, float("-inf")))
    return out, lse.squeeze(-1), ~vis.any(-1)  # out, lse, rows that see nothing [B, 1 or Hq, Sq]


def inputs_for(meta, b, sq, skv, gen):
    dt = DTYPES[meta["dtype"]]
    dev = "cuda"
    hq, hkv = heads(meta, 2)
    q = torch.randn(b, hq, sq, meta["head_dim"], device=dev, generator=gen).to(dt)
    k = torch.randn(b, hkv, skv, meta["head_dim"], device=dev, generator=gen).to(dt)
    v = torch.randn(b, hkv, skv, meta["value_dim"], device=dev, generator=gen).to(dt)
    extra = {}
    if meta.get("mask_dtype"):
        # Rows padded to 16 bytes, as the kernels copy rows with cp.async; one
        # query row per batch fully masked.
        pad = (skv + 15) // 16 * 16
        if meta["mask_dtype"] == "bool":
            full = torch.rand(b, 1, sq, pad, device=dev, generator=gen) < 0.85
            full[:, :, sq // 2, :] = False
        else:
            full = torch.randn(b, 1, sq, pad, device=dev, generator=gen).to(DTYPES.get(meta["mask_dtype"], torch.float32))
        extra["mask"] = full[..., :skv]
    if meta.get("lengths_dtype"):
        ld = torch.int32 if meta["lengths_dtype"] == "i32" else torch.int64
        extra["kv_lengths"] = torch.randint(0, skv + 1, (b,), device=dev, generator=gen, dtype=ld)
    if meta.get("offsets_dtype"):
        od = torch.int32 if meta["offsets_dtype"] == "i32" else torch.int64
        extra["q_offsets"] = torch.randint(-sq, skv + 1, (b,), device=dev, generator=gen, dtype=od)
    if meta.get("block_sizes"):
        extra["block_idx"], extra["reference_blocks"] = block_lists(meta, b, hq, hkv, sq, skv, gen)
    return q, k, v, extra


def selection_scores(q, kc, lengths, meta):
    """The block scores a selection kernel ranks (attention-semantics.md
    section 4), fp32 [B, Hsel, Sq, blocks]: -inf ineligible, +inf forced.
    kc: the compressed keys, or (mean_key) one mean key per block."""
    sel = meta["selection"]
    mean_key = sel["method"] == "mean_key"
    l, d = meta["compressed_keys"] or (1, 1)
    b, hq, sq, _ = q.shape
    hkv, sc = kc.shape[1], kc.shape[2]
    block, per = sel["block"], sel["block"] // d
    blocks = max(1, (int(lengths.max()) + block - 1) // block)
    s = q.float() @ kc.float().repeat_interleave(hq // hkv, 1).transpose(-1, -2)
    if not mean_key:
        s = s * meta["scale"]
    t = torch.arange(sc, device=q.device)
    j = torch.arange(blocks, device=q.device)
    # w[t, j]: strides token t (strides t .. t + l/d - 1) shares with block j.
    lo = torch.maximum(t[:, None], j[None, :] * per)
    hi = torch.minimum(t[:, None] + l // d - 1, j[None, :] * per + per - 1)
    w = (hi - lo + 1).clamp_min(0).float()
    if mean_key:  # q . mean, no softmax
        scores = torch.nn.functional.pad(s, (0, max(0, blocks - sc)))[..., :blocks].contiguous()
    else:
        scores = torch.empty(b, hq, sq, blocks, device=q.device)
        for bi in range(b):
            L = int(lengths[bi])
            pos = torch.arange(sq, device=q.device) + L - sq
            vis = (t[None, :] * d + l - 1 <= pos[:, None]) & (t[None, :] * d + l <= L)
            x = s[bi].masked_fill(~vis, float("-inf"))
            mx = x.amax(-1, keepdim=True)
            p = torch.exp(x - torch.where(torch.isinf(mx), torch.zeros_like(mx), mx))
            p = p / p.sum(-1, keepdim=True).clamp_min(1e-30)
            if sel["method"] == "softmax_prob_max":
                scores[bi] = (p[..., :, None] * (w > 0)).amax(-2)
            else:
                scores[bi] = p @ w
    if meta["block_heads"] == "kv":
        scores = scores.view(b, hkv, hq // hkv, sq, blocks).sum(2)
    for bi in range(b):
        L = int(lengths[bi])
        pos = torch.arange(sq, device=q.device) + L - sq
        own = torch.div(pos, block, rounding_mode="floor")
        eligible = j[None, :] * block <= pos[:, None]
        forced = (j[None, :] < sel["init"]) | ((j[None, :] <= own[:, None]) & (own[:, None] < j[None, :] + sel["local"]))
        x = torch.where(forced, torch.full_like(scores[bi], float("inf")), scores[bi])
        scores[bi] = torch.where(eligible, x, torch.full_like(x, float("-inf")))
    return scores


def selection_problem(idx, scores, rel=1e-3):
    """"" when idx [B, Hsel, Sq, K] is a valid top-K of `scores`: ascending,
    unique, eligible, min(K, eligible) entries then -1, no unchosen block
    above a chosen one beyond rounding."""
    k = idx.shape[-1]
    rows, blocks = idx.reshape(-1, k).cpu(), scores.reshape(-1, scores.shape[-1]).cpu()
    for r in range(rows.shape[0]):
        chosen = [int(x) for x in rows[r] if x >= 0]
        n = len(chosen)
        eligible = int((blocks[r] != float("-inf")).sum())
        if list(rows[r][n:]) != [-1] * (k - n) or chosen != sorted(set(chosen)):
            return f"row {r}: not ascending, unique and -1 padded"
        if n != min(k, eligible) or any(c >= blocks.shape[1] or blocks[r, c] == float("-inf") for c in chosen):
            return f"row {r}: {n} eligible blocks chosen, expected {min(k, eligible)}"
        if n:
            worst = min(float(blocks[r, c]) for c in chosen)
            others = [float(blocks[r, c]) for c in range(blocks.shape[1]) if c not in chosen]
            if any(x > worst + rel * max(1.0, abs(x)) for x in others):
                return f"row {r}: an unchosen block beats a chosen one"
    return ""


def check_selection(kernel, meta, gen):
    """A selection kernel: the compressed branch (when it has values)
    against `reference` with queries at i + L - Sq over Sc(L) tokens, the
    lists against `selection_scores`. Returns (problems, worst rel)."""
    block = meta["selection"]["block"]
    l, d = meta["compressed_keys"] or (1, 1)
    dt = DTYPES[meta["dtype"]]
    problems, worst = [], 0.0
    for b, sq, skv in [(2, 130, 1029), (3, 77, 77), (2, 257, 64), (1, 1, 300)]:
        hq, hkv = heads(meta, 2)
        # mean_key: k holds block means (any values serve the check).
        sc = (skv + block - 1) // block if not meta["compressed_keys"] else (skv - l) // d + 1
        q = torch.randn(b, hq, sq, meta["head_dim"], device="cuda", generator=gen).to(dt)
        kc = torch.randn(b, hkv, sc, meta["head_dim"], device="cuda", generator=gen).to(dt)
        lengths = torch.randint(0, skv + 1, (b,), device="cuda", generator=gen, dtype=torch.int32)
        hsel = hq if meta["block_heads"] == "q" else hkv
        idx = torch.full((b, hsel, sq, meta["selection"]["k"]), -7, device="cuda", dtype=torch.int32)
        vc = out = None
        if meta["value_dim"]:
            vc = torch.randn(b, hkv, sc, meta["value_dim"], device="cuda", generator=gen).to(dt)
            out = torch.empty(b, hq, sq, meta["value_dim"], device="cuda", dtype=dt)
        kernel.launch(q, kc, vc, out, kv_lengths=lengths, select_idx=idx)
        torch.cuda.synchronize()
        if vc is not None:
            tokens = torch.where(lengths >= l, torch.div(lengths - l, d, rounding_mode="floor") + 1, 0)
            ref, _, _ = reference(q, kc, vc, dict(meta, alignment="top_left"), None,
                                  tokens.clamp_max(sc), (lengths - sq).int(), None)
            rel = ((out.float() - ref).norm() / ref.norm().clamp_min(1e-30)).item()
            worst = max(worst, rel)
            if torch.isnan(out).any() or rel > TOLERANCE[meta["dtype"]]:
                problems.append(f"out rel {rel:.2e} at {b}x{sq}x{skv}")
        if problem := selection_problem(idx, selection_scores(q, kc, lengths, meta)):
            problems.append(f"select_idx at {b}x{sq}x{skv}: {problem}")
    return problems, worst


def check(dirs):
    files = sorted(f for d in dirs for f in glob.glob(os.path.join(d, "*.json")))
    gen = torch.Generator(device="cuda").manual_seed(2026)
    passed = failed = 0
    for path in files:
        meta_all = json.load(open(path))
        meta = meta_all.get("attn")
        if not meta:
            continue
        kernel = Kernel(path)
        name = meta_all["name"]
        problems, worst = [], 0.0
        if meta.get("selection"):
            problems, worst = check_selection(kernel, meta, gen)
        for b, sq, skv in [] if meta.get("selection") else [(2, 130, 1029), (3, 77, 77), (2, 257, 64), (1, 1, 300)]:
            q, k, v, extra = inputs_for(meta, b, sq, skv, gen)
            hq = q.shape[1]
            out = torch.empty(b, hq, sq, meta["value_dim"], device="cuda", dtype=q.dtype)
            lse = torch.empty(b, hq, sq, device="cuda") if meta.get("lse") else None
            ref_blocks = extra.pop("reference_blocks", None)
            kernel.launch(q, k, v, out, lse=lse, **extra)
            torch.cuda.synchronize()
            ref, ref_lse, dead = reference(q, k, v, meta, extra.get("mask"), extra.get("kv_lengths"),
                                           extra.get("q_offsets"), ref_blocks)
            rel = ((out.float() - ref).norm() / ref.norm().clamp_min(1e-30)).item()
            worst = max(worst, rel)
            if torch.isnan(out).any():
                problems.append(f"NaN at {b}x{sq}x{skv}")
            if rel > TOLERANCE[meta["dtype"]]:
                problems.append(f"rel {rel:.2e} at {b}x{sq}x{skv}")
            dead_rows = dead.expand(b, hq, sq)
            if dead_rows.any() and out[dead_rows].abs().max().item() != 0:
                problems.append(f"fully masked rows not zero at {b}x{sq}x{skv}")
            if lse is not None:
                finite = torch.isfinite(ref_lse)
                if not torch.equal(torch.isfinite(lse), finite) or (lse[finite] - ref_lse[finite]).abs().max().item() > 1e-2:
                    problems.append(f"lse differs at {b}x{sq}x{skv}")
        status = "PASS" if not problems else "FAIL " + "; ".join(problems)
        print(f"{status}  {name}  rel={worst:.1e}", flush=True)
        passed += not problems
        failed += bool(problems)
    print(f"{passed} passed, {failed} failed")
    return failed == 0


def cuda_times(fns, reps=12, calls=5):
    """Median seconds per call of each function, sampled in interleaved rounds
    (so clock and thermal drift hit all alike); each sample is `calls`
    back-to-back launches, so host-side launch costs overlap the GPU's work."""
    for fn in fns:
        fn()
    torch.cuda.synchronize()
    times = [[] for _ in fns]
    for _ in range(reps):
        for fn, t in zip(fns, times):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(calls):
                fn()
            end.record()
            end.synchronize()
            t.append(start.elapsed_time(end) / 1e3 / calls)
    return [sorted(t)[len(t) // 2] for t in times]


def cuda_time(fn):
    return cuda_times([fn])[0]


def bench(directory, flex_lengths):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    kernels = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        meta = json.load(open(path)).get("attn")
        if meta and not any(meta.get(f) for f in ("mask_dtype", "lengths_dtype", "offsets_dtype", "lse",
                                                   "block_sizes", "compressed_keys")):
            kernels.append((path, meta))
    flex = None
    try:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention
        flex = torch.compile(flex_attention)
    except Exception as e:  # older torch
        print(f"FlexAttention unavailable: {e}")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    print("| kernel | shape | ours TFLOP/s | SDPA flash TFLOP/s | ours / SDPA | Flex TFLOP/s | ours / Flex |")
    print("|---|---|---|---|---|---|---|")
    flexed = set()
    for path, meta in kernels:
        kernel = Kernel(path)
        dtype, d, causal = meta["dtype"], meta["head_dim"], meta["causal"]
        hq, hkv = heads(meta, (32 if d <= 128 else 16) // meta["group"])
        p = meta["tile_plan"]
        plan = f"q{p['q_block']}k{p['kv_block']}w{p['warps']}s{p['stages']}"
        for s in (4096, 8192, 16384):
            b = max(1, 16384 // s)
            q = torch.randn(b, hq, s, d, device="cuda", dtype=DTYPES[dtype])
            k = torch.randn(b, hkv, s, d, device="cuda", dtype=DTYPES[dtype])
            v = torch.randn_like(k)
            out = torch.empty_like(q)
            flops = 4 * b * hq * s * s * d / (2 if causal else 1)
            kk, vv = (k, v) if hq == hkv else (k.repeat_interleave(hq // hkv, 1), v.repeat_interleave(hq // hkv, 1))
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                ours, sdpa = cuda_times([
                    lambda: kernel.launch(q, k, v, out),
                    lambda: torch.nn.functional.scaled_dot_product_attention(q, kk, vv, is_causal=causal)])
                ref = torch.nn.functional.scaled_dot_product_attention(q, kk, vv, is_causal=causal)
            err = ((out.float() - ref.float()).norm() / ref.float().norm()).item()
            flex_cell = "- | -"
            key = (dtype, hq, hkv, d, causal, s)
            if flex is not None and s in flex_lengths and key not in flexed:
                flexed.add(key)
                try:
                    bm = create_block_mask(lambda b_, h_, qi, ki: qi >= ki, None, None, s, s) if causal else None
                    t = cuda_time(lambda: flex(q, k, v, block_mask=bm, enable_gqa=hq != hkv))
                    flex_cell = f"{flops / t / 1e12:.0f} | {t / ours:.2f}x"
                except Exception as e:
                    flex_cell = f"failed ({type(e).__name__}) | -"
            label = f"{dtype} {'causal' if causal else 'dense'} B={b} H={hq}/{hkv} S={s} D={d}"
            print(f"| {plan} | {label} | {flops / ours / 1e12:.0f} | {flops / sdpa / 1e12:.0f} | "
                  f"{sdpa / ours:.2f}x | {flex_cell} | (vs SDPA rel {err:.1e})", flush=True)


def moba_lists(b, hq, sq, qb, kb, top, gen):
    """MoBA-like selections (Sq = Skv, q_block = kv_block): per query head
    and query block, its own block and top - 1 random earlier ones."""
    dev = gen.device
    own = torch.arange((sq + qb - 1) // qb, device=dev) * qb // kb
    picks = (torch.rand(b, hq, own.numel(), top - 1, device=dev, generator=gen) * (own + 1)[:, None]).long()
    return torch.cat([own.expand(b, hq, -1)[..., None], picks], -1).int().contiguous()


def sparse_bench(directory, lengths):
    """NSA's forward (pooling of K and V and the gates in PyTorch; our
    selection kernel, which also gives the compressed branch; the selected
    blocks it chose; the window) and MoBA-like selection against our dense
    causal kernel of the same heads."""
    found = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        meta = json.load(open(path))["attn"]
        p = meta["tile_plan"]
        plan = f"q{p['q_block']}k{p['kv_block']}w{p['warps']}s{p['stages']}"
        if meta.get("selection"):
            found["select"] = (Kernel(path), plan)
        elif meta.get("compressed_keys"):
            found["compressed"] = (Kernel(path), plan)
        elif meta.get("block_sizes") == [1, 64]:
            found.setdefault("selected", []).append((Kernel(path), plan))
        elif meta.get("block_sizes"):
            found["moba"] = (Kernel(path), plan)
        elif meta.get("window"):
            found["window"] = (Kernel(path), plan)
        else:
            found[f"dense_g{meta['group']}"] = (Kernel(path), plan)
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}")
    print("| model | S | dense causal ms | sparse ms | dense / sparse | parts (ms) |")
    print("|---|---|---|---|---|---|")
    gen = torch.Generator(device="cuda").manual_seed(7)
    bf = torch.bfloat16
    for s in lengths:
        # NSA: 64 query heads over 4, D = 128; l = 32, d = 16; top 16 of 64-key blocks; window 512.
        q = torch.randn(1, 64, s, 128, device="cuda", dtype=bf)
        k = torch.randn(1, 4, s, 128, device="cuda", dtype=bf)
        v = torch.randn_like(k)
        out = torch.empty_like(q)
        g = torch.rand(1, 64, s, 3, device="cuda", dtype=bf)
        idx = torch.empty(1, 4, s, 16, device="cuda", dtype=torch.int32)
        lengths = torch.full((1,), s, device="cuda", dtype=torch.int32)

        def pooled(x):  # mean over 32-key spans every 16 keys
            return x.unfold(2, 32, 16).mean(-1).contiguous()
        kc, vc = pooled(k), pooled(v)
        o_cmp, o_slc, o_win = torch.empty_like(q), torch.empty_like(q), torch.empty_like(q)
        dense, plan_d = found["dense_g16"]
        select, plan_s = found["select"]
        win, plan_w = found["window"]
        select.launch(q, kc, vc, o_cmp, kv_lengths=lengths, select_idx=idx)
        fns = [lambda: dense.launch(q, k, v, out),
               lambda: (pooled(k), pooled(v)),
               lambda: select.launch(q, kc, vc, o_cmp, kv_lengths=lengths, select_idx=idx),
               lambda: win.launch(q, k, v, o_win),
               lambda: torch.sum(g[..., :, None] * torch.stack([o_cmp, o_slc, o_win], -2), -2)]
        fns += [lambda kern=kern: kern.launch(q, k, v, o_slc, block_idx=idx) for kern, _ in found["selected"]]
        t = cuda_times(fns)
        t_dense, t_pool, t_select, t_win, t_gate, t_sel = t[0], t[1], t[2], t[3], t[4], t[5:]
        best = min(range(len(t_sel)), key=lambda i: t_sel[i])
        total = t_pool + t_select + t_win + t_gate + t_sel[best]
        sel = ", ".join(f"selected {plan} {x * 1e3:.2f}" for (_, plan), x in zip(found["selected"], t_sel))
        print(f"| NSA forward | {s} | {t_dense * 1e3:.2f} ({plan_d}) | {total * 1e3:.2f} | "
              f"{t_dense / total:.2f}x | pool {t_pool * 1e3:.2f}, selection + compressed {t_select * 1e3:.2f} "
              f"({plan_s}), window {t_win * 1e3:.2f} ({plan_w}), {sel}, gates {t_gate * 1e3:.2f} |", flush=True)
        del o_cmp, o_slc, o_win, g, lengths
        del q, k, v, out, idx, kc, vc
        # MoBA-like: 32 query heads over 8, 128 x 128 blocks, top 8 per query head.
        q = torch.randn(1, 32, s, 128, device="cuda", dtype=bf)
        k = torch.randn(1, 8, s, 128, device="cuda", dtype=bf)
        v = torch.randn_like(k)
        out = torch.empty_like(q)
        idx = moba_lists(1, 32, s, 128, 128, 8, gen)
        dense, plan_d = found["dense_g4"]
        moba, plan_m = found["moba"]
        t_dense, t_moba = cuda_times([lambda: dense.launch(q, k, v, out),
                                      lambda: moba.launch(q, k, v, out, block_idx=idx)])
        print(f"| MoBA top 8 | {s} | {t_dense * 1e3:.2f} ({plan_d}) | {t_moba * 1e3:.2f} ({plan_m}) | "
              f"{t_dense / t_moba:.2f}x | |", flush=True)
        del q, k, v, out, idx


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", nargs="*", default=[])
    ap.add_argument("--bench")
    ap.add_argument("--flex-lengths", default="8192")
    ap.add_argument("--sparse")
    ap.add_argument("--sparse-lengths", default="16384,32768,65536")
    args = ap.parse_args()
    ok = True
    if args.check:
        ok = check(args.check)
    if args.bench:
        bench(args.bench, {int(x) for x in args.flex_lengths.split(",") if x})
    if args.sparse:
        sparse_bench(args.sparse, [int(x) for x in args.sparse_lengths.split(",") if x])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
