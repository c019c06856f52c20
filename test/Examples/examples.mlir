// The example models parse, verify, round-trip and canonicalize.
// RUN: attn-opt %attn_src/examples/llama-layer.mlir --verify-roundtrip --canonicalize --attn-plan-tiles=target=cpu | FileCheck %s --check-prefix=LLAMA
// RUN: attn-opt %attn_src/examples/gemma-layer.mlir --verify-roundtrip --canonicalize --attn-plan-tiles=target=cpu | FileCheck %s --check-prefix=GEMMA

// LLAMA: attn.attention {{.*}} {causal, layout = #attn.layout<packed>, num_heads = array<i64: 32, 8>, tile_plan = #attn.tile_plan<target = cpu, q_block = 64, kv_block = 64
// LLAMA-SAME: : tensor<1x?x4096xf16>, tensor<1x?x1024xf16>, tensor<1x?x1024xf16> -> tensor<1x?x4096xf16>

// The window's right side is implied by causality.
// GEMMA-LABEL: func @gemma_local_attention
// GEMMA: softcap = 5.000000e+01 : f64, {{.*}}window = array<i64: 4095, -1>
// GEMMA-LABEL: func @gemma_global_attention
// GEMMA: kv_lengths(%{{.*}} : tensor<?xi32>) {alignment = #attn.alignment<bottom_right>, causal
