//===- Passes.td - graph-level attn passes -----------------*- tablegen -*-===//
#ifndef ATTN_PASSES_TD
#define ATTN_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnPlanTiles : Pass<"attn-plan-tiles"> {
  let summary = "choose tile sizes for every attention op, per target";
  let description = [{
    Attaches a `#attn.tile_plan` to every `attn.attention` that has none. The
    plan depends on the target, the head dims, the element type and the
    grouped-query ratio, never on sequence lengths or batch, so one compiled
    kernel serves every length. Plans are attributes, so they can be pinned by
    hand and by tests.

    On the CPU the query rows of a tile run along vector lanes; `q_block`
    rows hold `G = Hq / Hkv` heads of one group times `q_block / G` query
    positions (at least one position per head), so each key/value tile is read
    once for the whole group.

    Before:
    ```mlir
    %o = attn.attention %q, %k, %v {causal} : ...
    ```
    After `--attn-plan-tiles=target=cpu`:
    ```mlir
    %o = attn.attention %q, %k, %v {causal, tile_plan = #attn.tile_plan<
        target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>} : ...
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "cpu, sm_80 or sm_90">,
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

def AttnDecompose : Pass<"attn-decompose"> {
  let summary = "rewrite composite sparse attention into its primitive ops";
  let description = [{
    `attn.nsa` becomes what section 5 of attention-semantics.md defines it
    as, in ops a user can also combine by hand: `attn.compress` of keys and
    values, an `attn.attention` over the compressed keys
    (`compressed_keys`, queries at their original bottom-right positions
    through `query_offsets`), `attn.select_blocks` (softmax_prob, one list
    per key head), a block-sparse `attn.attention` over the selection, a
    sliding-window `attn.attention`, and the gated sum as a
    `linalg.generic`. Every attention keeps the composite's scale.
    `attn.moba` becomes `mean_key` selection per query head plus a
    block-sparse attention; `attn.switch` becomes an `scf.if` on the key
    length with its two regions as the branches.
  }];
  let dependentDialects = ["::mlir::attn::AttnDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def AttnFuseBranches : Pass<"attn-fuse-branches"> {
  let summary = "fuse a block-sparse and a sliding-window attention of the same inputs";
  let description = [{
    NSA's selected and window branches (what `attn-decompose` makes of
    `attn.nsa`, or a user's own pair) read the same query, keys and values
    under different masks. This pass merges a block-sparse `attn.attention`
    and a windowed one that share every operand (query, key, value, mask,
    kv_lengths, query_offsets) and every other attribute into one
    block-sparse attention with `window_branch = <the window>`, whose
    `window` result replaces the windowed attention. Its CPU kernel scores
    each key block once for both outputs and keeps two softmax states.
    Ops with a tile plan, a window with an lse, or a user between them that
    the fused op would have to precede are left alone. The CPU pipeline
    (`attn-to-cpu`) runs it; GPU kernels have no fused form, so
    `attn-compile` does not.

    The fused kernel gives each position its own task (keys along the
    vector lanes), which wins for few queries (decode) but loses to the
    dense window kernel's full tiles of 64 rows in prefill (measured in
    docs/benchmarks.md). So the pair is fused for query lengths below
    `max-queries`: statically when the length is static, else under an
    `scf.if` on the length with the pair on the other side (one compiled
    function serves both).

    Before:
    ```mlir
    %s = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x4x16xi32>)
        {causal, block_sizes = array<i64: 1, 64>} : ...
    %w = attn.attention %q, %k, %v {causal, window = array<i64: 511, -1>} : ...
    ```
    After (4 queries, below `max-queries`):
    ```mlir
    %s, %w = attn.attention %q, %k, %v blocks(%idx : tensor<1x2x4x16xi32>)
        {causal, block_sizes = array<i64: 1, 64>,
         window_branch = array<i64: 511, -1>} : ... -> T window T
    ```
  }];
  let options = [
    Option<"maxQueries", "max-queries", "int64_t", /*default=*/"16",
           "fuse for query lengths below this (decode); longer ones keep the pair">,
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect", "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect"];
}

def AttnRaise : Pass<"attn-raise"> {
  let summary = "raise unfused attention in linalg or TOSA into attn.attention";
  let description = [{
    Finds `P V` products whose `P` is a softmax over the key axis of
    `Q K^T` and replaces the chain by one `attn.attention`:

    - the scores as a contraction into a zero fill: `linalg.batch_matmul`
      (plain, or with indexing maps) or a `linalg.generic` computing
      `acc + x * y`, its loops in any order; K read as `[N, Skv, D]` (the
      transpose folded into the maps) or as `K^T` made by `linalg.transpose`
      (permutation `[0, 2, 1]`) of `[N, Skv, D]`;
    - an optional scale: an element-wise `linalg.generic` multiplying or
      dividing by a scalar constant, on the scores, on Q, or on K (before
      or after its transpose); scales multiply;
    - an optional additive mask `[N, Sq, Skv]`: an element-wise
      `linalg.generic` adding a second tensor. A causal mask built from
      `linalg.index` arithmetic (`select(j <= i + c, 0, -inf)` and its
      variants, with or without a window bound) becomes `causal` with its
      alignment (or `query_offset = c`) and disappears, for any shape. With
      a static shape the mask's values are read instead: a constant tensor,
      or an input-less generic computing from `linalg.index` and integer
      arithmetic (evaluated, up to 2^24 entries per `[Sq, Skv]` slice, the
      same for every batch entry). Values that are exactly causal at some
      offset, causal with a window, or causal with parallel branches
      `(P, N)` become those attributes; any other mask stays an explicit
      mask;
    - `linalg.softmax` over dimension 2, or the softmax written out (max,
      `exp(x - max)` in one or two generics, sum, divide);
    - `P x V` as such a contraction into a zero fill, V read as
      `[N, Skv, Dv]` or transposed from a `linalg.transpose` of it.

    The same chain in TOSA is matched in place (no tosa-to-linalg needed):
    `tosa.matmul` with zero points 0, `tosa.transpose` (perms `[0, 2, 1]`),
    scales and softcap as `tosa.mul` by splat constants (or their
    `tosa.reciprocal`), `tosa.add` of a mask (a constant one is read off
    as above; `[1, Sq, Skv]` broadcasts), the softmax as `exp(x -
    reduce_max(x))` (or `exp(x)`) times `reciprocal(reduce_sum)` over axis
    2, and float `tosa.cast`s around it; heads folded into the batch by
    `tosa.reshape` and K/V heads copied by `tosa.reshape` + `tosa.tile`
    (`[B, Hkv, 1, S, D]` tiled `G` times) as below.

    The `N` batch becomes `[N, 1, S, D]` with `tensor.expand_shape`, and the
    result is collapsed back. When Q, K and V are `[B, H, S, D]` collapsed
    to `[B*H, S, D]` (how torch-mlir feeds a 4-D matmul to batch_matmul)
    the op takes `B` and `H` back; canonicalization then folds the usual
    `[B, S, H*D] -> [B, S, H, D] -> [B, H, S, D]` head split into layout
    `packed`. K and V copied per query head (a
    `linalg.broadcast` of `[B, Hkv, S, D]` along a new group axis, collapsed
    to `B*Hq`) become native grouped-query attention on the original
    heads: the query splits into `[B, Hq, S, D]` and nothing is copied. A chain that ends in `softmax` then `P V` but
    fails a step gets a remark naming the step, and is left alone. The
    rewrite is opt-in, as the fused kernel computes the softmax in fp32
    online (it is not bit-identical to the unfused graph).
  }];
  let dependentDialects = ["::mlir::attn::AttnDialect",
                           "::mlir::tensor::TensorDialect"];
}

def AttnSparsify : Pass<"attn-sparsify"> {
  let summary = "rewrite dense causal attention into block-sparse attention by policy";
  let description = [{
    Opt-in (it changes the numbers): every `attn.attention` that is causal,
    aligned bottom-right, in the `bhsd` layout and without an explicit mask,
    offsets, a window or a selection becomes `attn.select_blocks` plus a
    block-sparse `attn.attention` over the selection (per-batch
    `kv_lengths` carry over to the selection and, for InfLLM-V2, to the
    switch, which then chooses per batch element):

    - `policy=moba`: `mean_key` scores per query head, the query's own block
      forced (MoBA), `top-k` blocks of `block` keys;
    - `policy=quest`: `key_bound` scores per query head over pages of
      `block` keys, the current page forced (Quest; meant for decode);
    - `policy=infllm-v2`: `softmax_prob_max` over mean-pooled compressed
      keys (`compress-block`, `compress-stride`), one list per key head,
      `init` initial blocks and `window / block` local blocks forced, inside
      an `attn.switch` on the key length: below `dense-len` keys the
      original dense attention runs, so one compiled function serves both
      sides.

    With `reuse=N`, only every N-th attention computes a selection; the
    others use the most recent one (moba and quest; InfLLM-V2's switch keeps
    its own).
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"infllm-v2\"",
           "moba, quest or infllm-v2">,
    Option<"block", "block", "int64_t", /*default=*/"64", "keys per block">,
    Option<"topK", "top-k", "int64_t", /*default=*/"16", "blocks per query">,
    Option<"init", "init", "int64_t", /*default=*/"1", "forced initial blocks (infllm-v2)">,
    Option<"window", "window", "int64_t", /*default=*/"512",
           "keys of forced local blocks (infllm-v2; a multiple of block)">,
    Option<"compressBlock", "compress-block", "int64_t", /*default=*/"32",
           "compressed span l (infllm-v2)">,
    Option<"compressStride", "compress-stride", "int64_t", /*default=*/"16",
           "compressed stride d (infllm-v2)">,
    Option<"denseLen", "dense-len", "int64_t", /*default=*/"8192",
           "below this many keys stay dense (infllm-v2)">,
    Option<"reuse", "reuse", "int64_t", /*default=*/"1",
           "compute the selection at every reuse-th attention (in program "
           "order) and reuse it for the ones in between when their queries "
           "and keys have the same shapes (DELTA, LessIsMore); 1: every one">,
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect", "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect", "::mlir::arith::ArithDialect"];
}

#endif // ATTN_PASSES_TD
