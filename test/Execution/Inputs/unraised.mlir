// Unfused attention in linalg, as importers emit it (raise-end-to-end.test).
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @causal(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%kt0 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%s1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c = arith.constant 0.125 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %mask = arith.constant dense<[[[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, 0xFF800000, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0xFF800000, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0xFF800000], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]> : tensor<2x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<2x4x6xf32>, tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p0 = tensor.empty() : tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<2x4x6xf32>) outs(%p0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}


func.func @masked(%q: tensor<3x5x16xf32>, %k: tensor<3x7x16xf32>, %v: tensor<3x7x16xf32>, %mask: tensor<3x5x7xf32>) -> tensor<3x5x16xf32> {
  %kt0 = tensor.empty() : tensor<3x16x7xf32>
  %kt = linalg.transpose ins(%k : tensor<3x7x16xf32>) outs(%kt0 : tensor<3x16x7xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<3x5x7xf32>
  %zero = arith.constant 0.0 : f32
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<3x5x7xf32>) -> tensor<3x5x7xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<3x5x16xf32>, tensor<3x16x7xf32>) outs(%sz : tensor<3x5x7xf32>) -> tensor<3x5x7xf32>
  %c = arith.constant 4.0 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<3x5x7xf32>) outs(%s0 : tensor<3x5x7xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.divf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<3x5x7xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<3x5x7xf32>, tensor<3x5x7xf32>) outs(%s0 : tensor<3x5x7xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<3x5x7xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<3x5x7xf32>) outs(%s0 : tensor<3x5x7xf32>) -> tensor<3x5x7xf32>
  %o0 = tensor.empty() : tensor<3x5x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<3x5x16xf32>) -> tensor<3x5x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<3x5x7xf32>, tensor<3x7x16xf32>) outs(%oz : tensor<3x5x16xf32>) -> tensor<3x5x16xf32>
  return %o : tensor<3x5x16xf32>
}


func.func @gqa(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

func.func @torch_sdpa(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %c = arith.constant 0.35355339 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // The causal mask, materialised from indices: key j is visible to query i
  // when j <= i + (Skv - Sq).
  %mask = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %limit = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %limit : index
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // softmax, decomposed.
  %r0 = tensor.empty() : tensor<6x4xf32>
  %mxf = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %mx = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%masked : tensor<6x4x6xf32>) outs(%mxf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maximumf %acc, %x : f32
    linalg.yield %m : f32
  } -> tensor<6x4xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%masked, %mx : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %smf = linalg.fill ins(%zero : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%e : tensor<6x4x6xf32>) outs(%smf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %acc, %x : f32
    linalg.yield %a : f32
  } -> tensor<6x4xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %t: f32, %o: f32):
    %y = arith.divf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}

func.func @softcapped(%q: tensor<2x4x16xf32>, %k: tensor<2x6x16xf32>, %v: tensor<2x6x16xf32>) -> tensor<2x4x16xf32> {
  %kt0 = tensor.empty() : tensor<2x16x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x16xf32>) outs(%kt0 : tensor<2x16x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x16xf32>, tensor<2x16x6xf32>) outs(%sz : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %c = arith.constant 0.25 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %cap = arith.constant 50.0 : f32
  %capped = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %a = arith.divf %x, %cap : f32
    %t = math.tanh %a : f32
    %y = arith.mulf %t, %cap : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%capped : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x16xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x16xf32>) outs(%oz : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %o : tensor<2x4x16xf32>
}

func.func @sliding_window(%q: tensor<6x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x6x8xf32>) -> tensor<6x4x8xf32> {
  %e0 = tensor.empty() : tensor<1x2x3x6x8xf32>
  %kb = linalg.broadcast ins(%k : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%v : tensor<1x2x6x8xf32>) outs(%e0 : tensor<1x2x3x6x8xf32>) dimensions = [2]
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<1x2x3x6x8xf32> into tensor<6x6x8xf32>
  %kt0 = tensor.empty() : tensor<6x8x6xf32>
  %kt = linalg.transpose ins(%k3 : tensor<6x6x8xf32>) outs(%kt0 : tensor<6x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<6x4x6xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<6x4x8xf32>, tensor<6x8x6xf32>) outs(%sz : tensor<6x4x6xf32>) -> tensor<6x4x6xf32>
  %c = arith.constant 0.35355339 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // A sliding window of 4 keys ending at the query's own, from indices:
  // visible when i - 1 <= j <= i + (Skv - Sq).
  %mask = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %c1 = arith.constant 1 : index
    %limit = arith.addi %i, %c2 : index
    %first = arith.subi %i, %c1 : index
    %upto = arith.cmpi sle, %j, %limit : index
    %from = arith.cmpi sge, %j, %first : index
    %ok = arith.andi %upto, %from : i1
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<6x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<6x4x6xf32>, tensor<6x4x6xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  // softmax, decomposed.
  %r0 = tensor.empty() : tensor<6x4xf32>
  %mxf = linalg.fill ins(%ninf : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %mx = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%masked : tensor<6x4x6xf32>) outs(%mxf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maximumf %acc, %x : f32
    linalg.yield %m : f32
  } -> tensor<6x4xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%masked, %mx : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %y = math.exp %d : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %smf = linalg.fill ins(%zero : f32) outs(%r0 : tensor<6x4xf32>) -> tensor<6x4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%e : tensor<6x4x6xf32>) outs(%smf : tensor<6x4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %a = arith.addf %acc, %x : f32
    linalg.yield %a : f32
  } -> tensor<6x4xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%e, %sum : tensor<6x4x6xf32>, tensor<6x4xf32>) outs(%s0 : tensor<6x4x6xf32>) {
  ^bb0(%x: f32, %t: f32, %o: f32):
    %y = arith.divf %x, %t : f32
    linalg.yield %y : f32
  } -> tensor<6x4x6xf32>
  %o0 = tensor.empty() : tensor<6x4x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<6x4x6xf32>, tensor<6x6x8xf32>) outs(%oz : tensor<6x4x8xf32>) -> tensor<6x4x8xf32>
  return %o : tensor<6x4x8xf32>
}


func.func @half_casts(%q: tensor<2x4x16xf16>, %k: tensor<2x6x16xf16>, %v: tensor<2x6x16xf16>) -> tensor<2x4x16xf16> {
  %kt0 = tensor.empty() : tensor<2x16x6xf16>
  %kt = linalg.transpose ins(%k : tensor<2x6x16xf16>) outs(%kt0 : tensor<2x16x6xf16>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f16
  %s0 = tensor.empty() : tensor<2x4x6xf16>
  %sz = linalg.fill ins(%zero : f16) outs(%s0 : tensor<2x4x6xf16>) -> tensor<2x4x6xf16>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x16xf16>, tensor<2x16x6xf16>) outs(%sz : tensor<2x4x6xf16>) -> tensor<2x4x6xf16>
  %f0 = tensor.empty() : tensor<2x4x6xf32>
  %wide = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<2x4x6xf16>) outs(%f0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f16, %o: f32):
    %y = arith.extf %x : f16 to f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %c = arith.constant 0.25 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%wide : tensor<2x4x6xf32>) outs(%f0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%scaled : tensor<2x4x6xf32>) outs(%f0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %narrow = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%p : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf16>) {
  ^bb0(%x: f32, %o: f16):
    %y = arith.truncf %x : f32 to f16
    linalg.yield %y : f16
  } -> tensor<2x4x6xf16>
  %o0 = tensor.empty() : tensor<2x4x16xf16>
  %oz = linalg.fill ins(%zero : f16) outs(%o0 : tensor<2x4x16xf16>) -> tensor<2x4x16xf16>
  %o = linalg.batch_matmul ins(%narrow, %v : tensor<2x4x6xf16>, tensor<2x6x16xf16>) outs(%oz : tensor<2x4x16xf16>) -> tensor<2x4x16xf16>
  return %o : tensor<2x4x16xf16>
}


// Key padding from per-batch lengths: keys at or past len[b] get -inf.
func.func @padded(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>, %len: tensor<2xi64>) -> tensor<2x4x8xf32> {
  %kt0 = tensor.empty() : tensor<2x8x6xf32>
  %kt = linalg.transpose ins(%k : tensor<2x6x8xf32>) outs(%kt0 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%s1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %mask = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0)>, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%len : tensor<2xi64>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%l: i64, %o: f32):
    %j = linalg.index 2 : index
    %j64 = arith.index_cast %j : index to i64
    %pad = arith.cmpi sge, %j64, %l : i64
    %m = arith.select %pad, %ninf, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x4x6xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x4x6xf32>, tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}


// Scores as an einsum-like contraction (bid,bjd->bij, K untransposed), as
// einsum lowerings emit them; softmax written out; P V as batch_matmul.
func.func @einsum_scores(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, i, j, d) -> (b, i, d)>, affine_map<(b, i, j, d) -> (b, j, d)>, affine_map<(b, i, j, d) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x8xf32>, tensor<2x6x8xf32>) outs(%s1 : tensor<2x4x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %y = arith.addf %acc, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}


// Both products as contraction generics (bid,bjd->bij and bij,bjd->bid).
func.func @einsum_both(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(b, i, j, d) -> (b, i, d)>, affine_map<(b, i, j, d) -> (b, j, d)>, affine_map<(b, i, j, d) -> (b, i, j)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x8xf32>, tensor<2x6x8xf32>) outs(%s1 : tensor<2x4x6xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %y = arith.addf %acc, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, i, d, j) -> (b, i, j)>, affine_map<(b, i, d, j) -> (b, j, d)>, affine_map<(b, i, d, j) -> (b, i, d)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %y = arith.addf %m, %acc : f32
    linalg.yield %y : f32
  } -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// Transposes folded into the products' maps, loops in other orders:
// Q K^T as a batch_matmul whose indexing maps read K as it is (the
// modern form of batch_matmul_transpose_b), P V as a generic over
// (b, key, i, d) reading V transposed ([B, D, Skv], from a transpose).
func.func @folded_transposes(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul indexing_maps = [affine_map<(b, i, j, d) -> (b, i, d)>, affine_map<(b, i, j, d) -> (b, j, d)>, affine_map<(b, i, j, d) -> (b, i, j)>] ins(%q, %k : tensor<2x4x8xf32>, tensor<2x6x8xf32>) outs(%s1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x6xf32>) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %vt0 = tensor.empty() : tensor<2x8x6xf32>
  %vt = linalg.transpose ins(%v : tensor<2x6x8xf32>) outs(%vt0 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, j, i, d) -> (b, i, j)>, affine_map<(b, j, i, d) -> (b, d, j)>, affine_map<(b, j, i, d) -> (b, i, d)>], iterator_types = ["parallel", "reduction", "parallel", "parallel"]} ins(%p, %vt : tensor<2x4x6xf32>, tensor<2x8x6xf32>) outs(%o1 : tensor<2x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %b, %a : f32
    %y = arith.addf %acc, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// Scales on Q (a product) and on K (a division, before the transpose).
func.func @scaled_q_k(%q: tensor<2x4x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> tensor<2x4x8xf32> {
  %half = arith.constant 0.5 : f32
  %two = arith.constant 2.0 : f32
  %q0 = tensor.empty() : tensor<2x4x8xf32>
  %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%q : tensor<2x4x8xf32>) outs(%q0 : tensor<2x4x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %half, %x : f32
    linalg.yield %y : f32
  } -> tensor<2x4x8xf32>
  %k0 = tensor.empty() : tensor<2x6x8xf32>
  %ks = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%k : tensor<2x6x8xf32>) outs(%k0 : tensor<2x6x8xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.divf %x, %two : f32
    linalg.yield %y : f32
  } -> tensor<2x6x8xf32>
  %kt0 = tensor.empty() : tensor<2x8x6xf32>
  %kt = linalg.transpose ins(%ks : tensor<2x6x8xf32>) outs(%kt0 : tensor<2x8x6xf32>) permutation = [0, 2, 1]
  %zero = arith.constant 0.0 : f32
  %s0 = tensor.empty() : tensor<2x4x6xf32>
  %s1 = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %s = linalg.batch_matmul ins(%qs, %kt : tensor<2x4x8xf32>, tensor<2x8x6xf32>) outs(%s1 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %p0 = tensor.empty() : tensor<2x4x6xf32>
  %p = linalg.softmax dimension(2) ins(%s : tensor<2x4x6xf32>) outs(%p0 : tensor<2x4x6xf32>) -> tensor<2x4x6xf32>
  %o0 = tensor.empty() : tensor<2x4x8xf32>
  %o1 = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x4x6xf32>, tensor<2x6x8xf32>) outs(%o1 : tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return %o : tensor<2x4x8xf32>
}

// Multi-head attention on [B, S, H*D] projections, as torch-mlir writes
// SDPA with enable_gqa: split the heads, transpose to [B, H, S, D], fold
// the heads into the batch for batch_matmul, copy the 2 K/V heads to the 4
// query heads; index-built causal mask (bottom-right); then back to
// [B, S, H*D].
func.func @packed_gqa(%q: tensor<2x5x32xf32>, %k: tensor<2x7x16xf32>, %v: tensor<2x7x16xf32>) -> tensor<2x5x32xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %q4 = tensor.expand_shape %q [[0], [1], [2, 3]] output_shape [2, 5, 4, 8] : tensor<2x5x32xf32> into tensor<2x5x4x8xf32>
  %k4 = tensor.expand_shape %k [[0], [1], [2, 3]] output_shape [2, 7, 2, 8] : tensor<2x7x16xf32> into tensor<2x7x2x8xf32>
  %v4 = tensor.expand_shape %v [[0], [1], [2, 3]] output_shape [2, 7, 2, 8] : tensor<2x7x16xf32> into tensor<2x7x2x8xf32>
  %eq = tensor.empty() : tensor<2x4x5x8xf32>
  %qt = linalg.transpose ins(%q4 : tensor<2x5x4x8xf32>) outs(%eq : tensor<2x4x5x8xf32>) permutation = [0, 2, 1, 3]
  %ek = tensor.empty() : tensor<2x2x7x8xf32>
  %kh = linalg.transpose ins(%k4 : tensor<2x7x2x8xf32>) outs(%ek : tensor<2x2x7x8xf32>) permutation = [0, 2, 1, 3]
  %vh = linalg.transpose ins(%v4 : tensor<2x7x2x8xf32>) outs(%ek : tensor<2x2x7x8xf32>) permutation = [0, 2, 1, 3]
  %eb = tensor.empty() : tensor<2x2x2x7x8xf32>
  %kb = linalg.broadcast ins(%kh : tensor<2x2x7x8xf32>) outs(%eb : tensor<2x2x2x7x8xf32>) dimensions = [2]
  %vb = linalg.broadcast ins(%vh : tensor<2x2x7x8xf32>) outs(%eb : tensor<2x2x2x7x8xf32>) dimensions = [2]
  %q3 = tensor.collapse_shape %qt [[0, 1], [2], [3]] : tensor<2x4x5x8xf32> into tensor<8x5x8xf32>
  %k3 = tensor.collapse_shape %kb [[0, 1, 2], [3], [4]] : tensor<2x2x2x7x8xf32> into tensor<8x7x8xf32>
  %v3 = tensor.collapse_shape %vb [[0, 1, 2], [3], [4]] : tensor<2x2x2x7x8xf32> into tensor<8x7x8xf32>
  %kt0 = tensor.empty() : tensor<8x8x7xf32>
  %kt = linalg.transpose ins(%k3 : tensor<8x7x8xf32>) outs(%kt0 : tensor<8x8x7xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<8x5x7xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<8x5x7xf32>) -> tensor<8x5x7xf32>
  %s = linalg.batch_matmul ins(%q3, %kt : tensor<8x5x8xf32>, tensor<8x8x7xf32>) outs(%sz : tensor<8x5x7xf32>) -> tensor<8x5x7xf32>
  %c = arith.constant 0.35355339 : f32
  %scaled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s : tensor<8x5x7xf32>) outs(%s0 : tensor<8x5x7xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %c : f32
    linalg.yield %y : f32
  } -> tensor<8x5x7xf32>
  %mask = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<8x5x7xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c2 = arith.constant 2 : index
    %limit = arith.addi %i, %c2 : index
    %ok = arith.cmpi sle, %j, %limit : index
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<8x5x7xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%scaled, %mask : tensor<8x5x7xf32>, tensor<8x5x7xf32>) outs(%s0 : tensor<8x5x7xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<8x5x7xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<8x5x7xf32>) outs(%s0 : tensor<8x5x7xf32>) -> tensor<8x5x7xf32>
  %o0 = tensor.empty() : tensor<8x5x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<8x5x8xf32>) -> tensor<8x5x8xf32>
  %o = linalg.batch_matmul ins(%p, %v3 : tensor<8x5x7xf32>, tensor<8x7x8xf32>) outs(%oz : tensor<8x5x8xf32>) -> tensor<8x5x8xf32>
  %o4 = tensor.expand_shape %o [[0, 1], [2], [3]] output_shape [2, 4, 5, 8] : tensor<8x5x8xf32> into tensor<2x4x5x8xf32>
  %eo = tensor.empty() : tensor<2x5x4x8xf32>
  %ot = linalg.transpose ins(%o4 : tensor<2x4x5x8xf32>) outs(%eo : tensor<2x5x4x8xf32>) permutation = [0, 2, 1, 3]
  %out = tensor.collapse_shape %ot [[0], [1], [2, 3]] : tensor<2x5x4x8xf32> into tensor<2x5x32xf32>
  return %out : tensor<2x5x32xf32>
}

// Parallel branches (prefix P = 3, N = 2 branches) materialised from index
// arithmetic with remainders: key j visible from query i iff j <= i and
// (j < 3 or (j - 3) mod 2 == (i - 3) mod 2).
func.func @branches(%q: tensor<2x9x8xf32>, %k: tensor<2x9x8xf32>, %v: tensor<2x9x8xf32>) -> tensor<2x9x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %kt0 = tensor.empty() : tensor<2x8x9xf32>
  %kt = linalg.transpose ins(%k : tensor<2x9x8xf32>) outs(%kt0 : tensor<2x8x9xf32>) permutation = [0, 2, 1]
  %s0 = tensor.empty() : tensor<2x9x9xf32>
  %sz = linalg.fill ins(%zero : f32) outs(%s0 : tensor<2x9x9xf32>) -> tensor<2x9x9xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x9x8xf32>, tensor<2x8x9xf32>) outs(%sz : tensor<2x9x9xf32>) -> tensor<2x9x9xf32>
  %mask = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel", "parallel"]} outs(%s0 : tensor<2x9x9xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 1 : index
    %j = linalg.index 2 : index
    %c3 = arith.constant 3 : index
    %c2 = arith.constant 2 : index
    %causal = arith.cmpi ule, %j, %i : index
    %prefix = arith.cmpi ult, %j, %c3 : index
    %jp = arith.subi %j, %c3 : index
    %ip = arith.subi %i, %c3 : index
    %jr = arith.remsi %jp, %c2 : index
    %ir = arith.remsi %ip, %c2 : index
    %same = arith.cmpi eq, %jr, %ir : index
    %branch = arith.ori %prefix, %same : i1
    %ok = arith.andi %causal, %branch : i1
    %r = arith.select %ok, %zero, %ninf : f32
    linalg.yield %r : f32
  } -> tensor<2x9x9xf32>
  %masked = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%s, %mask : tensor<2x9x9xf32>, tensor<2x9x9xf32>) outs(%s0 : tensor<2x9x9xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %y = arith.addf %x, %m : f32
    linalg.yield %y : f32
  } -> tensor<2x9x9xf32>
  %p = linalg.softmax dimension(2) ins(%masked : tensor<2x9x9xf32>) outs(%s0 : tensor<2x9x9xf32>) -> tensor<2x9x9xf32>
  %o0 = tensor.empty() : tensor<2x9x8xf32>
  %oz = linalg.fill ins(%zero : f32) outs(%o0 : tensor<2x9x8xf32>) -> tensor<2x9x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x9x9xf32>, tensor<2x9x8xf32>) outs(%oz : tensor<2x9x8xf32>) -> tensor<2x9x8xf32>
  return %o : tensor<2x9x8xf32>
}
