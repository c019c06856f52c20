//===- AttnDialect.td - the attn dialect -------------------*- tablegen -*-===//
#ifndef ATTN_DIALECT_TD
#define ATTN_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::mlir::attn";
  let summary = "Attention as first-class operations";
  let description = [{
    The `attn` dialect represents attention (dense, masked, grouped-query,
    windowed, soft-capped, and later sparse and hierarchical forms) as single
    operations whose arithmetic is fixed by the project's shared contract,
    `attention-semantics.md`. Structured masks (causal,
    sliding window, parallel branches, per-batch valid lengths) are
    attributes, never materialised `Sq x Skv` tensors, so that lowering can
    turn them into loop bounds.
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
  // Set by the lowering: `attn.kernel` marks a generated CPU kernel function
  // (attn-balance-parallel-loops schedules its loops), `attn.gpu_kernel`
  // names the gpu.func an attention op launches (@module::@kernel).
  let discardableAttrs = (ins
    "::mlir::UnitAttr":$kernel,
    "::mlir::SymbolRefAttr":$gpu_kernel
  );
  let hasOperationAttrVerify = 1;
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;
class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Attn_Alignment : I32EnumAttr<"Alignment",
    "where the query block sits relative to the keys", [
      I32EnumAttrCase<"TopLeft", 0, "top_left">,
      I32EnumAttrCase<"BottomRight", 1, "bottom_right">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_AlignmentAttr : EnumAttr<Attn_Dialect, Attn_Alignment, "alignment"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_Pool : I32EnumAttr<"Pool", "how compression pools a span of keys", [
      I32EnumAttrCase<"Mean", 0, "mean">,
      I32EnumAttrCase<"Max", 1, "max">,
      I32EnumAttrCase<"Weighted", 2, "weighted">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_PoolAttr : EnumAttr<Attn_Dialect, Attn_Pool, "pool"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_ScoreMethod : I32EnumAttr<"ScoreMethod", "how block selection scores a block", [
      I32EnumAttrCase<"SoftmaxProb", 0, "softmax_prob">,
      I32EnumAttrCase<"SoftmaxProbMax", 1, "softmax_prob_max">,
      I32EnumAttrCase<"MeanKey", 2, "mean_key">,
      I32EnumAttrCase<"KeyBound", 3, "key_bound">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_ScoreMethodAttr : EnumAttr<Attn_Dialect, Attn_ScoreMethod, "score"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_Layout : I32EnumAttr<"Layout",
    "memory layout of the query, key, value and output tensors", [
      I32EnumAttrCase<"BHSD", 0, "bhsd">,
      I32EnumAttrCase<"BSHD", 1, "bshd">,
      I32EnumAttrCase<"Packed", 2, "packed">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_LayoutAttr : EnumAttr<Attn_Dialect, Attn_Layout, "layout"> {
  let assemblyFormat = "`<` $value `>`";
}

def Attn_Target : I32EnumAttr<"Target", "what a tile plan is sized for", [
      I32EnumAttrCase<"CPU", 0, "cpu">,
      I32EnumAttrCase<"SM80", 80, "sm_80">,
      I32EnumAttrCase<"SM90", 90, "sm_90">]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::attn";
}
def Attn_TargetAttr : EnumAttr<Attn_Dialect, Attn_Target, "target"> {
  let assemblyFormat = "`<` $value `>`";
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Attn_TilePlanAttr : Attn_Attr<"TilePlan", "tile_plan"> {
  let summary = "tile sizes chosen for one target";
  let description = [{
    Chosen by `attn-plan-tiles`: `q_block` query rows of every query head of
    one group (`q_block` counts rows of the packed group tile, so a tile holds
    `q_block / G` positions when `G` heads are packed), against `kv_block`
    keys per step of the online softmax. `warps` and `stages` only matter on
    GPUs (warps per thread block, K/V buffers in flight).

    ```mlir
    #attn.tile_plan<target = sm_80, q_block = 128, kv_block = 64, warps = 4, stages = 2>
    ```
  }];
  let parameters = (ins "Target":$target, "int64_t":$q_block,
                        "int64_t":$kv_block, "int64_t":$warps,
                        "int64_t":$stages);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // ATTN_DIALECT_TD
