// Gemma 2 style attention (9B shapes): 16 query heads and 8 key/value heads
// of dim 256, scores soft-capped at 50, scaled by 1/sqrt(256). Layers
// alternate between a local sliding window of 4096 keys (the query's own
// position included) and global causal attention.
//
//   build/bin/attn-opt examples/gemma-layer.mlir --canonicalize --attn-plan-tiles=target=cpu

// Local layer: keys i-4095 .. i.
func.func @gemma_local_attention(%q: tensor<?x?x16x256xbf16>, %k: tensor<?x?x8x256xbf16>,
                                 %v: tensor<?x?x8x256xbf16>) -> tensor<?x?x16x256xbf16> {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 4095, 0>, softcap = 50.0 : f64,
                                  scale = 0.0625 : f64, layout = #attn.layout<bshd>}
      : tensor<?x?x16x256xbf16>, tensor<?x?x8x256xbf16>, tensor<?x?x8x256xbf16> -> tensor<?x?x16x256xbf16>
  return %o : tensor<?x?x16x256xbf16>
}

// Global layer with a KV cache: the new queries are the last Sq positions of
// the cached keys (bottom-right causal alignment), and each sequence of the
// batch has its own valid length.
func.func @gemma_global_attention(%q: tensor<?x?x16x256xbf16>, %k: tensor<?x?x8x256xbf16>,
                                  %v: tensor<?x?x8x256xbf16>, %lengths: tensor<?xi32>)
    -> tensor<?x?x16x256xbf16> {
  %o = attn.attention %q, %k, %v kv_lengths(%lengths : tensor<?xi32>)
      {causal, alignment = #attn.alignment<bottom_right>, softcap = 50.0 : f64,
       scale = 0.0625 : f64, layout = #attn.layout<bshd>}
      : tensor<?x?x16x256xbf16>, tensor<?x?x8x256xbf16>, tensor<?x?x8x256xbf16> -> tensor<?x?x16x256xbf16>
  return %o : tensor<?x?x16x256xbf16>
}
