//===- KernelArtefact.h - A compiled kernel's files, read and checked -*- C++ -*-===//
//
// Reads NAME.json (docs/artefacts.md) and the NAME.cubin or NAME.ptx next to
// it, for kernels of attn-compile and of Triton alike. Everything here is
// plain file work: nothing touches a GPU, so a bad artefact is reported the
// same way on every machine.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_KERNELARTEFACT_H
#define ATTN_RUNTIME_KERNELARTEFACT_H

#include "runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct attn_kernel;

namespace attn::rt {


/// One kernel parameter of the attention ABI.
struct KernelArg {
  std::string name;
  bool isTensor = false; // a pointer; else a scalar of `dtype`
  DType dtype = DType::I32;
};

/// The attention ABI's parameter list (docs/artefacts.md, "The kernel's
/// parameters") for a kernel of element type `dtype` compiled with the given
/// optional operands.
std::vector<KernelArg> attentionAbiArgs(DType dtype,
                                        std::optional<DType> maskDtype,
                                        std::optional<DType> lengthsDtype,
                                        bool lse);

/// One axis of the "grid" description: {"value": N}, {"arg": NAME} or
/// {"ceil_div": [NAME, N]}.
struct GridAxis {
  enum class Kind { Value, Arg, CeilDiv } kind = Kind::Value;
  int64_t value = 1; // the constant, or the divisor of ceil_div
  std::string arg;   // a scalar argument of the ABI
};

/// The "attn" section.
struct AttentionSpec {
  DType dtype = DType::F16;
  int64_t qHeads = 0, kvHeads = 0, headDim = 0, valueDim = 0;
  double scale = 0, softcap = 0;
  bool causal = false;
  std::optional<std::pair<int64_t, int64_t>> window, branches;
  bool bottomRight = false; // "alignment": "bottom_right" (else "top_left")
  std::optional<DType> maskDtype, lengthsDtype;
  bool lse = false;
  unsigned block[3] = {1, 1, 1};
  GridAxis grid[3];
  std::vector<KernelArg> args; // equal to attentionAbiArgs(...) once loaded
};

struct KernelArtefact {
  std::string name;      // the kernel's entry point
  std::string jsonPath;
  std::string imagePath; // the .cubin, else the .ptx
  std::string image;     // its bytes; a PTX image ends with a NUL
  bool imageIsPtx = false;
  int64_t numWarps = 0, numCtas = 1, shared = 0;
  int64_t arch = 0; // target.arch (80 for sm_80); 0 when the JSON has none
  /// Triton 3.x's scratch buffers; `declaresScratch` when the .json has both
  /// fields (a Triton kernel, whose PTX ends with the two scratch pointers).
  int64_t globalScratchSize = 0, profileScratchSize = 0;
  bool declaresScratch = false;
  /// Byte sizes of the parameters of the PTX's `.entry NAME(...)`, when a
  /// .ptx is present (also beside a cubin); empty otherwise.
  std::vector<int> ptxParamSizes;
  bool ptxParamsKnown = false;
  std::optional<AttentionSpec> attn; // absent for a Triton kernel
};

/// The artefact behind a kernel of the C API (runtime/AttnRuntime.h), for
/// C++ tools that want more than the C API tells.
const KernelArtefact &artefactOf(const attn_kernel &kernel);

/// Loads and checks a kernel. Returns "" on success, else one line starting
/// with the offending file that says what is wrong and what to do.
std::string loadKernelArtefact(const std::string &jsonPath,
                               KernelArtefact &out);

/// The byte size of each parameter of `.entry NAME(...)` in PTX text (a
/// `.param .align 8 .b8 p[16]` counts 16). Returns "" on success.
std::string ptxEntryParamSizes(const std::string &ptx, const std::string &name,
                               std::vector<int> &sizes);

} // namespace attn::rt

#endif // ATTN_RUNTIME_KERNELARTEFACT_H
