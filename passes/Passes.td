//===- Passes.td - graph-level attn passes -----------------*- tablegen -*-===//
#ifndef ATTN_PASSES_TD
#define ATTN_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnPlanTiles : Pass<"attn-plan-tiles"> {
  let summary = "choose tile sizes for every attention op, per target";
  let description = [{
    Attaches a `#attn.tile_plan` to every `attn.attention` that has none. The
    plan depends on the target, the head dims, the element type and the
    grouped-query ratio, never on sequence lengths or batch, so one compiled
    kernel serves every length. Plans are attributes, so they can be pinned by
    hand and by tests.

    On the CPU the query rows of a tile run along vector lanes; `q_block`
    rows hold `G = Hq / Hkv` heads of one group times `q_block / G` query
    positions (at least one position per head), so each key/value tile is read
    once for the whole group.

    Before:
    ```mlir
    %o = attn.attention %q, %k, %v {causal} : ...
    ```
    After `--attn-plan-tiles=target=cpu`:
    ```mlir
    %o = attn.attention %q, %k, %v {causal, tile_plan = #attn.tile_plan<
        target = cpu, q_block = 64, kv_block = 64, warps = 1, stages = 1>} : ...
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "cpu, sm_80 or sm_90">,
  ];
  let dependentDialects = ["::mlir::attn::AttnDialect"];
}

#endif // ATTN_PASSES_TD
