// NSA of the conformance case nsa_11_small (test/Passes/attn-decompose.mlir).
func.func @nsa(%q: tensor<?x6x?x32xf32>, %k: tensor<?x2x?x32xf32>, %v: tensor<?x2x?x48xf32>, %g: tensor<?x6x?x3xf32>) -> (tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>) {
  %o, %idx = attn.nsa %q, %k, %v, %g {compress_block = 8, compress_stride = 4, select_block = 16, top_k = 4, init_blocks = 1, local_blocks = 2, window = 24, scale = 0.17677669529663687 : f64} : tensor<?x6x?x32xf32>, tensor<?x2x?x32xf32>, tensor<?x2x?x48xf32>, tensor<?x6x?x3xf32> -> tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>
  return %o, %idx : tensor<?x6x?x48xf32>, tensor<?x2x?x4xi32>
}
