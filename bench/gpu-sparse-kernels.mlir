// The kernels of `gpu_bench.py --sparse` (tools/gpu-check.sh): NSA's three
// attention branches with 64 query heads over 4 key heads of dim 128
// (compressed keys l = 32, d = 16; selected 64-key blocks, one list per key
// head and query; a 512-key window), MoBA-like selection (per query head,
// 128 x 128 blocks, 32 over 8 heads), and our dense causal kernels of the
// same heads as the baseline, and NSA's selection (softmax_prob through
// the compressed keys, with the compressed branch as its output).
func.func @nsa_compressed(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x128xbf16>) -> tensor<?x64x?x128xbf16> {
  %o = attn.attention %q, %k, %v {causal, compressed_keys = array<i64: 32, 16>} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x64x?x128xbf16>
  return %o : tensor<?x64x?x128xbf16>
}
func.func @nsa_select(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %kc: tensor<?x4x?x128xbf16>, %vc: tensor<?x4x?x128xbf16>) -> (tensor<?x4x?x16xi32>, tensor<?x64x?x128xbf16>) {
  %idx, %o = attn.select_blocks %q, %k compressed(%kc : tensor<?x4x?x128xbf16>) values(%vc : tensor<?x4x?x128xbf16>) {method = #attn.score<softmax_prob>, block = 64, top_k = 16, init = 1, local = 2, compress = array<i64: 32, 16>} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x4x?x16xi32>, tensor<?x64x?x128xbf16>
  return %idx, %o : tensor<?x4x?x16xi32>, tensor<?x64x?x128xbf16>
}
func.func @nsa_selected(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x128xbf16>, %idx: tensor<?x4x?x?xi32>) -> tensor<?x64x?x128xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x4x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x64x?x128xbf16>
  return %o : tensor<?x64x?x128xbf16>
}
func.func @nsa_window(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x128xbf16>) -> tensor<?x64x?x128xbf16> {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 511, -1>} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x64x?x128xbf16>
  return %o : tensor<?x64x?x128xbf16>
}
func.func @dense_g16(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x128xbf16>) -> tensor<?x64x?x128xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x64x?x128xbf16>
  return %o : tensor<?x64x?x128xbf16>
}
func.func @moba(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x128xbf16>, %idx: tensor<?x32x?x?xi32>) -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x32x?x?xi32>) {block_sizes = array<i64: 128, 128>, causal} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
func.func @dense_g4(%q: tensor<?x32x?x128xbf16>, %k: tensor<?x8x?x128xbf16>, %v: tensor<?x8x?x128xbf16>) -> tensor<?x32x?x128xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<?x32x?x128xbf16>, tensor<?x8x?x128xbf16>, tensor<?x8x?x128xbf16> -> tensor<?x32x?x128xbf16>
  return %o : tensor<?x32x?x128xbf16>
}
// Plan variants of the selected branch: its single-warp blocks are bound by
// shared memory per SM (three 60 KiB blocks with 3 stages of 32 keys).
func.func @nsa_selected_s2(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x128xbf16>, %idx: tensor<?x4x?x?xi32>) -> tensor<?x64x?x128xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x4x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal, tile_plan = #attn.tile_plan<target = sm_90, q_block = 16, kv_block = 32, warps = 1, stages = 2>} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x64x?x128xbf16>
  return %o : tensor<?x64x?x128xbf16>
}
func.func @nsa_selected_k16(%q: tensor<?x64x?x128xbf16>, %k: tensor<?x4x?x128xbf16>, %v: tensor<?x4x?x128xbf16>, %idx: tensor<?x4x?x?xi32>) -> tensor<?x64x?x128xbf16> {
  %o = attn.attention %q, %k, %v blocks(%idx : tensor<?x4x?x?xi32>) {block_sizes = array<i64: 1, 64>, causal, tile_plan = #attn.tile_plan<target = sm_90, q_block = 16, kv_block = 16, warps = 1, stages = 3>} : tensor<?x64x?x128xbf16>, tensor<?x4x?x128xbf16>, tensor<?x4x?x128xbf16> -> tensor<?x64x?x128xbf16>
  return %o : tensor<?x64x?x128xbf16>
}
