//===- AttnOps.td - attn operations ------------------------*- tablegen -*-===//
#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "dialects/AttnDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def Attn_FloatTensor : RankedTensorOf<[F16, BF16, F32, F64]>;
def Attn_MaskTensor : RankedTensorOf<[I1, F16, BF16, F32, F64]>;
def Attn_LengthTensor : RankedTensorOf<[I32, I64]>;

def Attn_AttentionOp : Attn_Op<"attention", [Pure, AttrSizedOperandSegments,
                                             AttrSizedResultSegments]> {
  let summary = "scaled dot-product attention, dense or block-sparse";
  let description = [{
    `softmax(softcap(scale * Q K^T) + mask) V` per query head, with every
    variant of `docs/attention-semantics.md` section 1:

    - `query` `[B, Hq, Sq, Dqk]`, `key` `[B, Hkv, Skv, Dqk]`, `value`
      `[B, Hkv, Skv, Dv]` in the canonical `layout = #attn.layout<bhsd>`;
      `#attn.layout<bshd>` takes `[B, S, H, D]` and `#attn.layout<packed>`
      takes `[B, S, H*D]` with `num_heads = array<i64: Hq, Hkv>`. The output
      has the layout of the query with head dim `Dv`.
    - grouped-query attention when `Hq` is a multiple of `Hkv`: query head
      `h` reads key head `h / (Hq / Hkv)`.
    - `scale` (default `1/sqrt(Dqk)`), `softcap` (`c * tanh(s / c)`, before
      any mask; absent or 0 means off).
    - `mask`: optional bool (keep `true`) or float (added) tensor of rank 1 to
      4, broadcast right-aligned to `[B, Hq, Sq, Skv]`; a last dimension
      shorter than `Skv` is padded with "masked".
    - `kv_lengths`: optional per-batch valid key lengths `[B]`; keys at or
      beyond them are masked.
    - structured masks, applied to absolute positions: `causal`,
      `window = array<i64: left, right>` (`-1` unbounded), parallel
      `branches = array<i64: P, N>` (implies causal). Query row `i` sits at
      position `i + off`: aligned `top_left` (default, `off = 0`) or
      `bottom_right` (`off = L - Sq`, `L` the valid key length), or a given
      offset: `query_offset = N` for every batch element, or per batch
      element from `query_offsets` `[B]` (a KV cache whose new keys
      outnumber or fall short of the queries: `off` = past length).
    - block-sparse attention (section 2): `blocks(%idx : tensor<B x Hsel x
      Qb x K x i32>)` with `block_sizes = array<i64: q_block, kv_block>`
      lists, for each query block of `q_block` rows (`Qb = ceil(Sq /
      q_block)`), the key blocks of `kv_block` keys its queries may see, on
      top of every other mask. `Hsel` is `Hkv` (one list per key head,
      shared by its query group), `Hq` or 1 (shared by all heads). A list
      is a set: `-1` pads, order and duplicates do not matter; an entry
      outside `[-1, ceil(Skv / kv_block))` is a run-time error.
    - `compressed_keys = array<i64: l, d>` (with `causal` alone): key `j`
      is the compressed token of original keys `[j*d, j*d + l - 1]` (see
      `attn.compress`) and is visible from original position `p` once
      `j*d + l - 1 <= p`; the query offset is in original positions.
    - an optional second result: the fp32 log-sum-exp `[B, Hq, Sq]` of the
      visible scores (natural log, `-inf` for a row with no visible key,
      whose output is 0).
    - `window_branch = array<i64: left, right>` (block-sparse attention
      only): a further result, `window`, the same attention with the block
      list replaced by that window (`-1` unbounded), every other mask kept.
      Its kernel visits each key block once for both outputs (NSA's
      selected and sliding-window branches, fused by `attn-fuse-branches`).

    Batch and sequence dimensions may be dynamic.

    ```mlir
    %o, %lse = attn.attention %q, %k, %v {causal, softcap = 50.0 : f64}
        : tensor<?x32x?x128xf16>, tensor<?x8x?x128xf16>, tensor<?x8x?x128xf16>
        -> tensor<?x32x?x128xf16>, tensor<?x32x?xf32>
    ```
  }];
  let arguments = (ins
    Attn_FloatTensor:$query,
    Attn_FloatTensor:$key,
    Attn_FloatTensor:$value,
    Optional<Attn_MaskTensor>:$mask,
    Optional<Attn_LengthTensor>:$kv_lengths,
    Optional<Attn_LengthTensor>:$query_offsets,
    Optional<RankedTensorOf<[I32]>>:$block_indices,
    OptionalAttr<F64Attr>:$scale,
    OptionalAttr<F64Attr>:$softcap,
    UnitAttr:$causal,
    OptionalAttr<DenseI64ArrayAttr>:$window,
    OptionalAttr<DenseI64ArrayAttr>:$branches,
    OptionalAttr<Attn_AlignmentAttr>:$alignment,
    OptionalAttr<I64Attr>:$query_offset,
    OptionalAttr<DenseI64ArrayAttr>:$block_sizes,
    OptionalAttr<DenseI64ArrayAttr>:$compressed_keys,
    OptionalAttr<Attn_LayoutAttr>:$layout,
    OptionalAttr<DenseI64ArrayAttr>:$num_heads,
    OptionalAttr<Attn_TilePlanAttr>:$tile_plan,
    OptionalAttr<DenseI64ArrayAttr>:$window_branch
  );
  let results = (outs Attn_FloatTensor:$output,
                      Optional<RankedTensorOf<[F32]>>:$lse,
                      Optional<Attn_FloatTensor>:$window_output);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    (`query_offsets` `(` $query_offsets^ `:` type($query_offsets) `)`)?
    (`blocks` `(` $block_indices^ `:` type($block_indices) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) (`,` type($lse)^)? (`window` type($window_output)^)?
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The effective scale: the attribute, else 1/sqrt(Dqk).
    double getEffectiveScale();
    /// Softcap, 0 when off.
    double getEffectiveSoftcap() {
      return getSoftcap() ? getSoftcap()->convertToDouble() : 0.0;
    }
    Layout getEffectiveLayout() {
      return getLayout() ? *getLayout() : Layout::BHSD;
    }
    Alignment getEffectiveAlignment() {
      return getAlignment() ? *getAlignment() : Alignment::TopLeft;
    }
    /// Shapes in the canonical [B, H, S, D] view (dynamic sizes as
    /// ShapedType::kDynamic).
    AttentionShape getShape();
    /// What the op computes beyond its operands, as the reference and the
    /// kernels take it (scale resolved, window sides normalized).
    ::attn::rt::AttentionSemantics getSemantics();
    /// Whose lists `blocks` holds (nullopt without block lists or with a
    /// selection head count the verifier rejects).
    std::optional<::attn::rt::BlockHeads> getBlockHeads();
  }];
}

def Attn_MergeOp : Attn_Op<"merge", [Pure, AttrSizedOperandSegments]> {
  let summary = "merge partial attention results by their log-sum-exp";
  let description = [{
    Combines partial results `(o_n, lse_n)` computed over disjoint key sets
    (split-KV decode, ring attention, cascades):
    `lse = logsumexp_n(lse_n)`, `o = sum_n exp(lse_n - lse) * o_n`; rows
    whose every `lse_n` is `-inf` give `o = 0` and `lse = -inf`. Outputs are
    `[B, H, S, D]` (partials may be wider than the output, e.g. fp32 partials
    merged into fp16), log-sum-exps `[B, H, S]` in fp32.

    ```mlir
    %o, %lse = attn.merge %o0, %o1 lse %l0, %l1
        : (tensor<2x8x1x64xf32>, tensor<2x8x1x64xf32>),
          (tensor<2x8x1xf32>, tensor<2x8x1xf32>)
        -> tensor<2x8x1x64xf16>, tensor<2x8x1xf32>
    ```
  }];
  let arguments = (ins Variadic<Attn_FloatTensor>:$partials,
                       Variadic<RankedTensorOf<[F32]>>:$partial_lses);
  let results = (outs Attn_FloatTensor:$output, RankedTensorOf<[F32]>:$lse);
  let assemblyFormat = [{
    $partials `lse` $partial_lses attr-dict `:` `(` type($partials) `)` `,`
    `(` type($partial_lses) `)` `->` type($output) `,` type($lse)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Attn_CompressOp : Attn_Op<"compress", [Pure, AttrSizedOperandSegments]> {
  let summary = "pool keys or values into compressed tokens";
  let description = [{
    Section 3 of `attention-semantics.md`: `[B, H, S, D]` in, `[B, H, Sc, D]`
    out with `Sc = (S - l) / d + 1` compressed tokens when `S >= l`, else 0;
    token `t` pools keys `t*d .. t*d + l - 1` by `mean`, `max` or
    `weighted` (a sum with the `weights` operand `[l]`). `d` divides `l`.
    With `kv_lengths` (`[B]`), only the tokens whose span lies within
    element `b`'s first `kv_lengths[b]` keys (`t*d + l <= L`) are pooled;
    the others are 0: no query ever sees them (section 3), so a ragged
    batch pools only its valid keys.

    ```mlir
    %kc = attn.compress %k {block = 32, stride = 16, pool = #attn.pool<mean>}
        : tensor<?x8x?x128xbf16> -> tensor<?x8x?x128xbf16>
    %vc = attn.compress %v kv_lengths(%len : tensor<?xi32>) {block = 32, stride = 16,
        pool = #attn.pool<mean>} : tensor<?x8x?x128xbf16> -> tensor<?x8x?x128xbf16>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$input,
                       Optional<RankedTensorOf<[F32, F64]>>:$weights,
                       Optional<Attn_LengthTensor>:$kv_lengths,
                       I64Attr:$block, I64Attr:$stride, Attn_PoolAttr:$pool);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $input (`weights` `(` $weights^ `:` type($weights) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)? attr-dict `:`
    type($input) `->` type($output)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::attn::rt::Compression getCompression();
  }];
}

def Attn_SelectBlocksOp : Attn_Op<"select_blocks", [Pure, AttrSizedOperandSegments]> {
  let summary = "top-k selection of key blocks per query";
  let description = [{
    Section 4 of `attention-semantics.md`, per query row (`q_block = 1`),
    queries aligned bottom-right: for each query, the `top_k` key blocks of
    `block` keys with the highest score by `method`, blocks `0 .. init-1`
    and the `local` blocks ending at the query's own forced (when
    eligible), ties to the lower block number, the list ascending and
    padded with `-1`. Lists are per key head (the scores of a group's query
    heads summed) or, with `per_query_head`, per query head. `softmax_prob`
    and `softmax_prob_max` score through compressed keys
    (`compress = array<i64: l, d>`, pooled by `pool`, mean by default)
    with `scale`. With `kv_lengths` (`[B]`), only the first `kv_lengths[b]`
    keys of element `b` are valid: queries sit at `i + L - Sq`, blocks
    starting at or past `L` are ineligible, and block summaries and
    compressed tokens use only valid keys.

    With `compressed(%kc)` (`[B, Hkv, Sc, D]`), a softmax_prob(_max)
    selection scores through these compressed keys instead of pooling `key`
    itself: a decode loop keeps them with its KV cache (what `attn.compress`
    of the keys gives), so a step does not pool every key again.

    With `values(%vc)` (compressed values `[B, Hkv, Sc, Dv]`, `Sc` the
    compressed key count), a softmax_prob(_max) selection also returns the
    attention over the compressed tokens that its scores come from:
    `output[b, h, i] = sum_t pc[t] * vc[b, h / G, t]`, `[B, Hq, Sq, Dv]`,
    zero for a query that sees no compressed token. NSA's compressed
    branch is this output: one pass over the compressed keys gives both.

    ```mlir
    %idx = attn.select_blocks %q, %k {method = #attn.score<softmax_prob>,
        block = 64, top_k = 16, init = 1, local = 2,
        compress = array<i64: 32, 16>}
        : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x8x?x16xi32>
    %idx2, %cmp = attn.select_blocks %q, %k values(%vc : tensor<?x8x?x128xbf16>)
        {method = #attn.score<softmax_prob>, block = 64, top_k = 16, init = 1,
         local = 2, compress = array<i64: 32, 16>}
        : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>
        -> tensor<?x8x?x16xi32>, tensor<?x32x?x128xbf16>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Optional<Attn_FloatTensor>:$compressed_keys,
                       Optional<Attn_FloatTensor>:$values,
                       Optional<Attn_LengthTensor>:$kv_lengths,
                       Attn_ScoreMethodAttr:$method, I64Attr:$block,
                       I64Attr:$top_k, I64Attr:$init, I64Attr:$local,
                       UnitAttr:$per_query_head,
                       OptionalAttr<DenseI64ArrayAttr>:$compress,
                       DefaultValuedAttr<Attn_PoolAttr, "Pool::Mean">:$pool,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs RankedTensorOf<[I32]>:$indices,
                      Optional<Attn_FloatTensor>:$output);
  let assemblyFormat = [{
    $query `,` $key
    (`compressed` `(` $compressed_keys^ `:` type($compressed_keys) `)`)?
    (`values` `(` $values^ `:` type($values) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    attr-dict `:` type($query) `,` type($key) `->` type($indices)
    (`,` type($output)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::attn::rt::Selection getSelection();
  }];
}

def Attn_NsaOp : Attn_Op<"nsa", [Pure, AttrSizedOperandSegments]> {
  let summary = "native sparse attention (compressed, selected, window)";
  let description = [{
    Section 5 of `attention-semantics.md`: `out = g_cmp * A(q, kc, vc) +
    g_slc * BlockSparse(q, k, v, select(...)) + g_win * Window(q, k, v, w)`
    with `gates [B, Hq, Sq, 3]`, causal and aligned bottom-right. Keys and
    values are compressed with `compress_block` / `compress_stride` by
    `pool`; selection scores by `softmax_prob` over the compressed keys,
    one list per key head, `top_k` blocks of `select_block` keys with
    `init_blocks` and `local_blocks` forced; the window holds `window` keys
    including the query's own. The second result is the selection.
    `kv_lengths` (`[B]`) gives each element's valid key length (all three
    branches and the selection respect it). `attn-decompose` rewrites it
    into `attn.compress`, `attn.select_blocks` and three `attn.attention`
    ops. `compressed(%kc, %vc)` gives the compressed keys and values
    (`[B, Hkv, Sc, D]`, `[B, Hkv, Sc, Dv]`, what `attn.compress` of `key`
    and `value` by `pool` gives) instead of pooling them on every call: a
    decode loop keeps them with its KV cache.
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Attn_FloatTensor:$value, Attn_FloatTensor:$gates,
                       Optional<Attn_FloatTensor>:$compressed_keys,
                       Optional<Attn_FloatTensor>:$compressed_values,
                       Optional<Attn_LengthTensor>:$kv_lengths,
                       DefaultValuedAttr<I64Attr, "32">:$compress_block,
                       DefaultValuedAttr<I64Attr, "16">:$compress_stride,
                       DefaultValuedAttr<Attn_PoolAttr, "Pool::Mean">:$pool,
                       DefaultValuedAttr<I64Attr, "64">:$select_block,
                       DefaultValuedAttr<I64Attr, "16">:$top_k,
                       DefaultValuedAttr<I64Attr, "1">:$init_blocks,
                       DefaultValuedAttr<I64Attr, "2">:$local_blocks,
                       DefaultValuedAttr<I64Attr, "512">:$window,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Attn_FloatTensor:$output, RankedTensorOf<[I32]>:$indices);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $gates
    (`compressed` `(` $compressed_keys^ `,` $compressed_values `:`
     type($compressed_keys) `,` type($compressed_values) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    attr-dict `:` type($query) `,`
    type($key) `,` type($value) `,` type($gates) `->` type($output) `,`
    type($indices)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::attn::rt::NsaParams getParams();
  }];
}

def Attn_MobaOp : Attn_Op<"moba", [Pure]> {
  let summary = "mixture of block attention (MoBA)";
  let description = [{
    Section 5 of `attention-semantics.md`: block-sparse attention over the
    `top_k` blocks of `block` keys whose mean key scores highest for each
    query head (`mean_key`, lists per query head), the query's own block
    forced, with causal masking aligned bottom-right. The second result is
    the selection `[B, Hq, Sq, top_k]`; `kv_lengths` (`[B]`) gives each
    element's valid key length. `attn-decompose` rewrites it into
    `attn.select_blocks` and a block-sparse `attn.attention`.

    ```mlir
    %o, %idx = attn.moba %q, %k, %v {block = 512, top_k = 3}
        : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16>
        -> tensor<?x32x?x128xbf16>, tensor<?x32x?x3xi32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Attn_FloatTensor:$value, Optional<Attn_LengthTensor>:$kv_lengths,
                       I64Attr:$block, I64Attr:$top_k,
                       OptionalAttr<F64Attr>:$scale);
  let results = (outs Attn_FloatTensor:$output, RankedTensorOf<[I32]>:$indices);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    attr-dict `:` type($query) `,` type($key) `,`
    type($value) `->` type($output) `,` type($indices)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The selection MoBA makes (mean_key, per query head, local 1).
    ::attn::rt::Selection getSelection();
  }];
}

def Attn_SwitchOp : Attn_Op<"switch", [RecursiveMemoryEffects, NoRegionArguments]> {
  let summary = "dense or sparse attention, chosen at run time by the key length";
  let description = [{
    The switchable attention of section 5 (InfLLM-V2 is one instance): the
    `dense` region runs when `key` has fewer than `dense_len` keys, the
    `sparse` region otherwise. Both regions end in `attn.yield` of values of
    the result types. One compiled function serves both sides:
    `attn-decompose` lowers it to an `scf.if` on `tensor.dim %key, 2`.

    With `kv_lengths` (`[B]`, the valid key length of each batch element)
    the choice is per batch element: element `b` takes the dense side iff
    `kv_lengths[b] < dense_len`. The results must then be tensors with the
    batch as their first dimension. A batch whose elements all choose one
    side runs that side alone; a mixed batch runs both, each with the
    lengths of the other side's elements set to 0 wherever the region
    reads this `kv_lengths` value (so those elements cost next to nothing),
    and takes each element's results from its side.

    ```mlir
    %o = attn.switch %k dense_len(8192) : tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16> {
      %d = attn.attention %q, %k, %v {causal, alignment = #attn.alignment<bottom_right>} : ...
      attn.yield %d : tensor<?x32x?x128xbf16>
    } else {
      %idx = attn.select_blocks %q, %k {...} : ...
      %s = attn.attention %q, %k, %v blocks(%idx : ...) {...} : ...
      attn.yield %s : tensor<?x32x?x128xbf16>
    }
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$key, Optional<Attn_LengthTensor>:$kv_lengths,
                       I64Attr:$dense_len);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$dense, SizedRegion<1>:$sparse);
  let assemblyFormat = [{
    $key (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    `dense_len` `(` $dense_len `)` attr-dict `:` type($key) `->` type($results)
    $dense `else` $sparse
  }];
  let hasVerifier = 1;
}

def Attn_YieldOp : Attn_Op<"yield", [Pure, Terminator, ReturnLike,
                                     HasParent<"SwitchOp">]> {
  let summary = "the values a side of attn.switch produces";
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // ATTN_OPS_TD
