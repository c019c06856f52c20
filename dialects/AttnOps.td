//===- AttnOps.td - attn operations ------------------------*- tablegen -*-===//
#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "dialects/AttnDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Attn_FloatTensor : RankedTensorOf<[F16, BF16, F32, F64]>;
def Attn_MaskTensor : RankedTensorOf<[I1, F16, BF16, F32, F64]>;
def Attn_LengthTensor : RankedTensorOf<[I32, I64]>;

def Attn_AttentionOp : Attn_Op<"attention", [Pure, AttrSizedOperandSegments]> {
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
    - an optional second result: the fp32 log-sum-exp `[B, Hq, Sq]` of the
      visible scores (natural log, `-inf` for a row with no visible key,
      whose output is 0).

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
    OptionalAttr<Attn_LayoutAttr>:$layout,
    OptionalAttr<DenseI64ArrayAttr>:$num_heads,
    OptionalAttr<Attn_TilePlanAttr>:$tile_plan
  );
  let results = (outs Attn_FloatTensor:$output,
                      Optional<RankedTensorOf<[F32]>>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`kv_lengths` `(` $kv_lengths^ `:` type($kv_lengths) `)`)?
    (`query_offsets` `(` $query_offsets^ `:` type($query_offsets) `)`)?
    (`blocks` `(` $block_indices^ `:` type($block_indices) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($output) (`,` type($lse)^)?
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

#endif // ATTN_OPS_TD
