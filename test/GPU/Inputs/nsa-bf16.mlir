// NSA (bf16, 16 query heads over 2, head dim 128) for test/GPU/attn-compile-nsa.test.
func.func @nsa(%q: tensor<?x16x?x128xbf16>, %k: tensor<?x2x?x128xbf16>, %v: tensor<?x2x?x128xbf16>, %g: tensor<?x16x?x3xbf16>) -> (tensor<?x16x?x128xbf16>, tensor<?x2x?x16xi32>) {
  %o, %idx = attn.nsa %q, %k, %v, %g {compress_block = 32, compress_stride = 16, select_block = 64, top_k = 16, init_blocks = 1, local_blocks = 2, window = 512} : tensor<?x16x?x128xbf16>, tensor<?x2x?x128xbf16>, tensor<?x2x?x128xbf16>, tensor<?x16x?x3xbf16> -> tensor<?x16x?x128xbf16>, tensor<?x2x?x16xi32>
  return %o, %idx : tensor<?x16x?x128xbf16>, tensor<?x2x?x16xi32>
}
