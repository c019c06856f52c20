// The kernel after the whole pipeline: LLVM/NVVM dialects, with the NVVM
// target attached, then PTX through LLVM's NVPTX backend.
// RUN: attn-opt %s --attn-to-nvvm=chip=sm_80 | FileCheck %s --check-prefix=NVVM
// RUN: attn-opt %s --attn-to-nvvm=chip=sm_80 --gpu-module-to-binary=format=isa | FileCheck %s --check-prefix=PTX

// NVVM: gpu.module @[[K:attn_sm_80_f16_d64_g2_win127x0_q128k32s3_[0-9a-z_]+]] [#nvvm.target<O = 3, chip = "sm_80">]
// NVVM: llvm.func @[[K]](
// NVVM-SAME: nvvm.kernel
// NVVM-SAME: nvvm.minctasm = 2 : i32
// NVVM: llvm.inline_asm has_side_effects asm_dialect = att "ex2.approx.ftz.f32 $0, $1;", "=f,f"
// NVVM: nvvm.mma.sync
// NVVM-NOT: scf.
// NVVM-NOT: arith.

// PTX: gpu.binary @attn_sm_80_f16_d64_g2_win127x0_q128k32s3
// PTX-SAME: .extern .shared .align 16 .b8 __attn_shared[];
// PTX-SAME: .visible .entry attn_sm_80_f16_d64_g2_win127x0_q128k32s3
// PTX-SAME: .maxntid 128, 1, 1
// PTX-SAME: .minnctapersm 2
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: cp.async.wait_group
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// PTX-SAME: shfl.sync.bfly.b32
// PTX-SAME: ex2.approx.ftz.f32
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-SAME: bar.sync
func.func @sliding_window(%q: tensor<?x4x?x64xf16>, %k: tensor<?x2x?x64xf16>, %v: tensor<?x2x?x64xf16>) -> tensor<?x4x?x64xf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 127, 0>} : tensor<?x4x?x64xf16>, tensor<?x2x?x64xf16>, tensor<?x2x?x64xf16> -> tensor<?x4x?x64xf16>
  return %o : tensor<?x4x?x64xf16>
}
