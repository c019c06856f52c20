// TOSA attention (tosa.matmul, tosa.transpose, a constant scale, the softmax
// as reduce_max, sub, exp, reduce_sum, reciprocal and mul) raises after the
// upstream tosa-to-linalg conversion: keep-dims reductions, linalg.reduce and
// the reciprocal-multiply form are recognised.
// RUN: attn-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg),attn-raise,canonicalize)" | FileCheck %s
// CHECK-LABEL: func @tosa_attention
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 0.353553{{[0-9]*}} : f64} : tensor<2x1x4x8xf32>, tensor<2x1x6x8xf32>, tensor<2x1x6x8xf32> -> tensor<2x1x4x8xf32>
// CHECK-NOT: linalg.reduce
// CHECK-NOT: math.exp
func.func @tosa_attention(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<2x6x8xf32>) -> tensor<2x8x6xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<2x4x8xf32>, tensor<2x8x6xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x4x6xf32>
  %c = "tosa.const"() <{values = dense<0.35355339> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sc = tosa.mul %s, %c, %shift : (tensor<2x4x6xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x6xf32>
  %mx = tosa.reduce_max %sc {axis = 2 : i32} : (tensor<2x4x6xf32>) -> tensor<2x4x1xf32>
  %d = tosa.sub %sc, %mx : (tensor<2x4x6xf32>, tensor<2x4x1xf32>) -> tensor<2x4x6xf32>
  %e = tosa.exp %d : (tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %sum = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x4x6xf32>) -> tensor<2x4x1xf32>
  %r = tosa.reciprocal %sum : (tensor<2x4x1xf32>) -> tensor<2x4x1xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x4x6xf32>, tensor<2x4x1xf32>, tensor<1xi8>) -> tensor<2x4x6xf32>
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<2x4x6xf32>, tensor<2x6x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// The same chains raise straight from TOSA (no tosa-to-linalg): one fused op,
// no tosa op left but the matmul of the near miss below.
// RUN: attn-opt %s --attn-raise --canonicalize --verify-diagnostics | FileCheck %s --check-prefix=DIRECT
// DIRECT-LABEL: func @tosa_attention
// DIRECT-NOT: tosa.
// DIRECT: attn.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 0.353553{{[0-9]*}} : f64} : tensor<2x1x4x8xf32>, tensor<2x1x6x8xf32>, tensor<2x1x6x8xf32> -> tensor<2x1x4x8xf32>
// DIRECT-NOT: tosa.
// CHECK-LABEL: func @tosa_wrong_axis
// DIRECT-LABEL: func @tosa_wrong_axis
// DIRECT-NOT: attn.attention
// DIRECT: tosa.reduce_sum
func.func @tosa_wrong_axis(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x6x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<2x6x8xf32>) -> tensor<2x8x6xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<2x6x8xf32>, tensor<2x8x6xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x6x6xf32>
  %mx = tosa.reduce_max %s {axis = 1 : i32} : (tensor<2x6x6xf32>) -> tensor<2x1x6xf32>
  %d = tosa.sub %s, %mx : (tensor<2x6x6xf32>, tensor<2x1x6xf32>) -> tensor<2x6x6xf32>
  %e = tosa.exp %d : (tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %sum = tosa.reduce_sum %e {axis = 1 : i32} : (tensor<2x6x6xf32>) -> tensor<2x1x6xf32>
  %r = tosa.reciprocal %sum : (tensor<2x1x6xf32>) -> tensor<2x1x6xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<2x6x6xf32>, tensor<2x1x6xf32>, tensor<1xi8>) -> tensor<2x6x6xf32>
  // expected-remark @+1 {{attn-raise: not raised: softmax is over axis 1, not the key axis 2}}
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<2x6x6xf32>, tensor<2x6x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x6x8xf32>
  return %o : tensor<2x6x8xf32>
}
