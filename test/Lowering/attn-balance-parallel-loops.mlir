// RUN: attn-opt %s --attn-balance-parallel-loops | FileCheck %s

// CHECK-LABEL: func.func @kernel
// CHECK: omp.wsloop schedule(dynamic) {
func.func @kernel(%n: index) attributes {attn.kernel} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        omp.yield
      }
    }
    omp.terminator
  }
  return
}

// Loops outside attention kernels keep their schedule.
// CHECK-LABEL: func.func @other
// CHECK: omp.wsloop {
func.func @other(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  omp.parallel {
    omp.wsloop {
      omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
        omp.yield
      }
    }
    omp.terminator
  }
  return
}
