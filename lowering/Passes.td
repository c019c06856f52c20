//===- Passes.td - attn lowering passes --------------------*- tablegen -*-===//
#ifndef ATTN_LOWERING_PASSES_TD
#define ATTN_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnLowerToCpu : Pass<"attn-lower-to-cpu", "::mlir::ModuleOp"> {
  let summary = "lower attention ops to fused, tiled CPU kernels";
  let description = [{
    Replaces every `attn.attention` (which must carry a CPU `tile_plan`, see
    `attn-plan-tiles`) by a call to a fused FlashAttention-2 kernel function
    generated into the module: `scf.parallel` over (batch, key head, query
    tile), an `scf.for` over the key tiles that the structured masks leave
    visible (loop bounds, not per-element tests), register-blocked vector
    outer products for both matrix products, an online softmax in base 2,
    and per-element masking only in the tiles a mask cuts. Equal kernels are
    generated once. Operands are passed as strided views of their buffers in
    the canonical [B, H, S, D] order, so every layout shares one kernel, and
    kernels are generic in batch and sequence lengths. `attn.merge` becomes
    two element-wise `linalg.generic` ops.

    Before:
    ```mlir
    %o = attn.attention %q, %k, %v {causal, tile_plan = #attn.tile_plan<...>}
        : tensor<?x8x?x64xf32>, ... -> tensor<?x8x?x64xf32>
    ```
    After:
    ```mlir
    %qb = bufferization.to_buffer %q read_only : tensor<?x8x?x64xf32> to memref<?x8x?x64xf32>
    %qv = memref.reinterpret_cast %qb ... to memref<?x?x?x64xf32, strided<[?, ?, ?, 1], offset: ?>>
    ...
    %ob = memref.alloc(%b, %s) : memref<?x8x?x64xf32>
    call @attn_cpu_f32_d64_g1_causal_...(%qv, %kv, %vv, %ov) : (...) -> ()
    %o = bufferization.to_tensor %ob restrict writable : memref<?x8x?x64xf32> to tensor<?x8x?x64xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::tensor::TensorDialect",
    "::mlir::vector::VectorDialect"];
}

def AttnLowerToGpu : Pass<"attn-lower-to-gpu", "::mlir::ModuleOp"> {
  let summary = "generate fused tensor-core kernels for attention ops";
  let description = [{
    For every `attn.attention` with an `sm_80`/`sm_90` tile plan, generates
    (once per distinct kernel) a `gpu.func` in a `gpu.module` of its own
    (both named after the kernel, so each becomes one artefact):
    FlashAttention-2 forward with `nvvm.mma.sync` m16n8k16 (f16/bf16, f32
    accumulation), `nvvm.ldmatrix`, `nvvm.cp.async` double buffering into
    dynamic shared memory, warp shuffles for row statistics and `ex2.approx`
    for the online softmax. Grid: (query tiles, Hkv, B); the kernel's
    parameters are raw pointers, sizes and strides (docs/artefacts.md), so one
    kernel serves every batch, length and layout. The op is annotated with
    `attn.gpu_kernel = @name::@name` for the host side (the runtime) to
    launch. `attn.select_blocks` by softmax_prob(_max) or mean_key gets its
    selection kernel likewise (planned here for `chip`, which it then
    needs; docs/sparse.md); by key_bound it stays as it is.

    Before:
    ```mlir
    %o = attn.attention %q, %k, %v {causal, tile_plan = #attn.tile_plan<target = sm_80, ...>} : ...
    ```
    After:
    ```mlir
    gpu.module @attn_sm_80_f16_d64_g1_causal_... {
      llvm.mlir.global external @__attn_shared() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
      gpu.func @attn_sm_80_f16_d64_g1_causal_...(%q: !llvm.ptr<1>, ...) kernel { ... nvvm.mma.sync ... }
    }
    %o = attn.attention %q, %k, %v {attn.gpu_kernel = @attn_sm_80_...::@attn_sm_80_..., causal, ...} : ...
    ```
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"\"",
           "sm_80 or sm_90: a tile plan for another target is an error "
           "(empty: every op's own plan decides)">,
  ];
  let dependentDialects = [
    "::mlir::attn::AttnDialect",
    "::mlir::arith::ArithDialect", "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::scf::SCFDialect"];
}

def AttnBalanceParallelLoops : Pass<"attn-balance-parallel-loops", "::mlir::ModuleOp"> {
  let summary = "schedule the OpenMP loops of attention kernels dynamically";
  let description = [{
    Tasks of an attention kernel differ in cost: a causal query tile near the
    end sees many more keys than one near the start, and valid lengths differ
    per batch element. A static schedule gives each thread one contiguous
    block of tasks, so one thread can get all the heavy ones. This pass sets
    `schedule(dynamic)` on the `omp.wsloop` of every function marked
    `attn.kernel` (the CPU kernels also visit causal query tiles heaviest
    first, so the last tasks handed out are the cheap ones). Run it after
    `convert-scf-to-openmp`.

    Chunks are `max(1, tasks / 256)` tasks: each chunk handed out costs a
    `__kmp_dispatch_next`, which in the Debian libomp (19) also formats five
    debug strings (vsnprintf, malloc, free) whether or not tracing is on.
    One task per chunk made NSA's selected branch (one task per position)
    pay that 65536 times per call at 32k queries; 256 chunks still balance
    the causal tiles over any thread count this runs on.

    Before:
    ```mlir
    omp.wsloop { omp.loop_nest (...) collapse(3) { ... } }
    ```
    After:
    ```mlir
    omp.wsloop schedule(dynamic = %chunk : index) { omp.loop_nest (...) collapse(3) { ... } }
    ```
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def AttnSplitLoopBlocks : Pass<"attn-split-loop-blocks", "::mlir::ModuleOp"> {
  let summary = "end a block after each top-level scf loop (before scf-to-cf)";
  let description = [{
    `convert-scf-to-cf` splits the block holding each loop it lowers,
    moving every op that follows into the new block. A function of many
    loops in sequence (a whole model lowered through linalg) makes that
    quadratic. This pass ends a block with `cf.br` after every `scf.for`,
    `scf.while` or `scf.if` directly in a function body, so the later
    splits move only the ops up to the next loop. For a 32-layer decoder,
    `convert-scf-to-cf` drops from 1.24 s to a few tens of milliseconds.
  }];
  let dependentDialects = ["::mlir::cf::ControlFlowDialect"];
}

def AttnOutlineLoops : Pass<"attn-outline-loops", "::mlir::ModuleOp"> {
  let summary = "outline the top-level loops of a long function (a whole model)";
  let description = [{
    LLVM's loop passes (IndVarSimplify, the vectorizers) grow faster than
    linearly with the size of one function: a 32-layer decoder lowered
    through linalg is one function of a few hundred loop nests, and took
    minutes to JIT at -O3. In a function with more than `threshold`
    top-level `scf.for`/`scf.parallel` loops, each such loop (without
    results) becomes a private `noinline` function taking the values it
    uses from above; constants are cloned in, so trip counts stay known.
    LLVM then optimizes many small functions, and compile time is linear.
  }];
  let options = [Option<"threshold", "threshold", "unsigned", "8",
                        "outline only in functions with more top-level loops">];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def AttnStridedCopiesToLinalg : Pass<"attn-strided-copies-to-linalg", "::mlir::ModuleOp"> {
  let summary = "rewrite memref.copy between strided views as linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` between buffers with
    identity layouts to `llvm.memcpy`, and any other copy to a call of the
    `memrefCopy` runtime function, which a JIT-compiled module does not
    have. Bufferizing `tensor.insert_slice` (RoPE's rotate-half in a model
    graph, for one) makes such copies. This pass rewrites each of them as
    `linalg.copy`, which `convert-linalg-to-loops` turns into loops.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // ATTN_LOWERING_PASSES_TD
