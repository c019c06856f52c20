// A Llama-style self-attention block (Llama 3 8B shapes): 32 query heads and
// 8 key/value heads of dim 128, causal, any batch and sequence length.
// Projections are ordinary linalg matmuls; the heads are views of the packed
// [B, S, H*D] activations, so the attention reads them in place.
//
//   build/bin/attn-opt examples/llama-layer.mlir --canonicalize --attn-plan-tiles=target=cpu

func.func @llama_attention(%x: tensor<?x4096xf16>,
                           %wq: tensor<4096x4096xf16>, %wk: tensor<4096x1024xf16>,
                           %wv: tensor<4096x1024xf16>, %wo: tensor<4096x4096xf16>)
    -> tensor<?x4096xf16> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f16
  %tokens = tensor.dim %x, %c0 : tensor<?x4096xf16>

  // Projections: [tokens, 4096] x [4096, H*D].
  %eq = tensor.empty(%tokens) : tensor<?x4096xf16>
  %fq = linalg.fill ins(%zero : f16) outs(%eq : tensor<?x4096xf16>) -> tensor<?x4096xf16>
  %q2 = linalg.matmul ins(%x, %wq : tensor<?x4096xf16>, tensor<4096x4096xf16>) outs(%fq : tensor<?x4096xf16>) -> tensor<?x4096xf16>
  %ekv = tensor.empty(%tokens) : tensor<?x1024xf16>
  %fkv = linalg.fill ins(%zero : f16) outs(%ekv : tensor<?x1024xf16>) -> tensor<?x1024xf16>
  %k2 = linalg.matmul ins(%x, %wk : tensor<?x4096xf16>, tensor<4096x1024xf16>) outs(%fkv : tensor<?x1024xf16>) -> tensor<?x1024xf16>
  %v2 = linalg.matmul ins(%x, %wv : tensor<?x4096xf16>, tensor<4096x1024xf16>) outs(%fkv : tensor<?x1024xf16>) -> tensor<?x1024xf16>

  // One sequence: [1, S, H*D], packed heads.
  %q = tensor.expand_shape %q2 [[0, 1], [2]] output_shape [1, %tokens, 4096] : tensor<?x4096xf16> into tensor<1x?x4096xf16>
  %k = tensor.expand_shape %k2 [[0, 1], [2]] output_shape [1, %tokens, 1024] : tensor<?x1024xf16> into tensor<1x?x1024xf16>
  %v = tensor.expand_shape %v2 [[0, 1], [2]] output_shape [1, %tokens, 1024] : tensor<?x1024xf16> into tensor<1x?x1024xf16>

  %o = attn.attention %q, %k, %v {causal, layout = #attn.layout<packed>, num_heads = array<i64: 32, 8>}
      : tensor<1x?x4096xf16>, tensor<1x?x1024xf16>, tensor<1x?x1024xf16> -> tensor<1x?x4096xf16>

  %o2 = tensor.collapse_shape %o [[0, 1], [2]] : tensor<1x?x4096xf16> into tensor<?x4096xf16>
  %y = linalg.matmul ins(%o2, %wo : tensor<?x4096xf16>, tensor<4096x4096xf16>) outs(%fq : tensor<?x4096xf16>) -> tensor<?x4096xf16>
  return %y : tensor<?x4096xf16>
}
