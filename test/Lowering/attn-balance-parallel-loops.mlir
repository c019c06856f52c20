// RUN: attn-opt %s --attn-balance-parallel-loops | FileCheck %s

// Chunks of max(1, tasks / 256) tasks (each chunk handed out costs a
// dispatch call).
// CHECK-LABEL: func.func @kernel
// CHECK: %[[SPAN:.*]] = arith.subi %arg0, %c0
// CHECK: %[[POS:.*]] = arith.maxsi %[[SPAN]]
// CHECK: %[[TRIPS:.*]] = arith.ceildivui %[[POS]], %c1
// CHECK: %[[TASKS:.*]] = arith.muli %{{.*}}, %[[TRIPS]]
// CHECK: %[[PER:.*]] = arith.divui %[[TASKS]], %c256
// CHECK: %[[CHUNK:.*]] = arith.maxsi %[[PER]], %{{.*}}
// CHECK: omp.wsloop schedule(dynamic = %[[CHUNK]] : index) {
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
