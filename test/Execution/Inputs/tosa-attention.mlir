// TOSA attention (raise-end-to-end.test).
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

// Causal (a constant [1, Sq, Skv] mask, bottom-right), softcap 2 and fp16
// casts around the softmax in f32.
func.func @tosa_causal_softcap(%q: tensor<2x4x8xf16>, %k: tensor<2x6x8xf16>, %v: tensor<2x6x8xf16>) -> tensor<2x4x8xf16> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf16>}> : () -> tensor<1xf16>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %kt = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<2x6x8xf16>) -> tensor<2x8x6xf16>
  %s16 = tosa.matmul %q, %kt, %zp, %zp : (tensor<2x4x8xf16>, tensor<2x8x6xf16>, tensor<1xf16>, tensor<1xf16>) -> tensor<2x4x6xf16>
  %s = tosa.cast %s16 : (tensor<2x4x6xf16>) -> tensor<2x4x6xf32>
  %c = "tosa.const"() <{values = dense<0.35355339> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %sc = tosa.mul %s, %c, %shift : (tensor<2x4x6xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x6xf32>
  %rc = "tosa.const"() <{values = dense<0.5> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %cap = "tosa.const"() <{values = dense<2.0> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %t0 = tosa.mul %sc, %rc, %shift : (tensor<2x4x6xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x6xf32>
  %t1 = tosa.tanh %t0 : (tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %capped = tosa.mul %t1, %cap, %shift : (tensor<2x4x6xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x6xf32>
  %mask = "tosa.const"() <{values = dense<[[[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<1x4x6xf32>}> : () -> tensor<1x4x6xf32>
  %m = tosa.add %capped, %mask : (tensor<2x4x6xf32>, tensor<1x4x6xf32>) -> tensor<2x4x6xf32>
  %mx = tosa.reduce_max %m {axis = 2 : i32} : (tensor<2x4x6xf32>) -> tensor<2x4x1xf32>
  %d = tosa.sub %m, %mx : (tensor<2x4x6xf32>, tensor<2x4x1xf32>) -> tensor<2x4x6xf32>
  %e = tosa.exp %d : (tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %sum = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<2x4x6xf32>) -> tensor<2x4x1xf32>
  %r = tosa.reciprocal %sum : (tensor<2x4x1xf32>) -> tensor<2x4x1xf32>
  %p32 = tosa.mul %e, %r, %shift : (tensor<2x4x6xf32>, tensor<2x4x1xf32>, tensor<1xi8>) -> tensor<2x4x6xf32>
  %p = tosa.cast %p32 : (tensor<2x4x6xf32>) -> tensor<2x4x6xf16>
  %o = tosa.matmul %p, %v, %zp, %zp : (tensor<2x4x6xf16>, tensor<2x6x8xf16>, tensor<1xf16>, tensor<1xf16>) -> tensor<2x4x8xf16>
  return %o : tensor<2x4x8xf16>
}

// Grouped-query attention as repeat_interleave lowers to TOSA: K and V
// heads [1, 2, 6, 8] reshaped to [1, 2, 1, 6, 8], tiled 3 times and folded
// into the batch of 6 query heads.
func.func @tosa_gqa(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %unit = tosa.const_shape {values = dense<[1, 2, 1, 6, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %times = tosa.const_shape {values = dense<[1, 1, 3, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %flat = tosa.const_shape {values = dense<[6, 6, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %k5 = tosa.reshape %k, %unit : (tensor<1x2x6x8xf32>, !tosa.shape<5>) -> tensor<1x2x1x6x8xf32>
  %kr = tosa.tile %k5, %times : (tensor<1x2x1x6x8xf32>, !tosa.shape<5>) -> tensor<1x2x3x6x8xf32>
  %k3 = tosa.reshape %kr, %flat : (tensor<1x2x3x6x8xf32>, !tosa.shape<3>) -> tensor<6x6x8xf32>
  %v5 = tosa.reshape %v, %unit : (tensor<1x2x6x8xf32>, !tosa.shape<5>) -> tensor<1x2x1x6x8xf32>
  %vr = tosa.tile %v5, %times : (tensor<1x2x1x6x8xf32>, !tosa.shape<5>) -> tensor<1x2x3x6x8xf32>
  %v3 = tosa.reshape %vr, %flat : (tensor<1x2x3x6x8xf32>, !tosa.shape<3>) -> tensor<6x6x8xf32>
  %kt = tosa.transpose %k3 {perms = array<i32: 0, 2, 1>} : (tensor<6x6x8xf32>) -> tensor<6x8x6xf32>
  %s = tosa.matmul %q, %kt, %zp, %zp : (tensor<6x4x8xf32>, tensor<6x8x6xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<6x4x6xf32>
  %mx = tosa.reduce_max %s {axis = 2 : i32} : (tensor<6x4x6xf32>) -> tensor<6x4x1xf32>
  %d = tosa.sub %s, %mx : (tensor<6x4x6xf32>, tensor<6x4x1xf32>) -> tensor<6x4x6xf32>
  %e = tosa.exp %d : (tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %sum = tosa.reduce_sum %e {axis = 2 : i32} : (tensor<6x4x6xf32>) -> tensor<6x4x1xf32>
  %r = tosa.reciprocal %sum : (tensor<6x4x1xf32>) -> tensor<6x4x1xf32>
  %p = tosa.mul %e, %r, %shift : (tensor<6x4x6xf32>, tensor<6x4x1xf32>, tensor<1xi8>) -> tensor<6x4x6xf32>
  %o = tosa.matmul %p, %v3, %zp, %zp : (tensor<6x4x6xf32>, tensor<6x6x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}
