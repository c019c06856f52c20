//===- KernelArtefact.h - A compiled kernel's files, read and checked -*- C++ -*-===//
//
// NAME.json (docs/artefacts.md) and the NAME.cubin or NAME.ptx next to it,
// for kernels of attn-compile and of Triton alike: the one writer of an
// attention kernel's NAME.json and the one reader. Everything here is plain
// file work: nothing touches a GPU, so a bad artefact is reported the same
// way on every machine.
//
//===----------------------------------------------------------------------===//
#ifndef ATTN_RUNTIME_KERNELARTEFACT_H
#define ATTN_RUNTIME_KERNELARTEFACT_H

#include "runtime/AttentionConfig.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct attn_kernel;

namespace attn::rt {

/// What `ptxas -v` said about a kernel; informational in NAME.json.
struct PtxasFigures {
  int64_t registers = -1; // -1: unknown (written as null)
  int64_t spillBytes = 0; // stores plus loads
  std::string log;
};

/// The "attn" section's format version this runtime writes and reads.
constexpr int kAttentionArtefactVersion = 4;

/// The whole NAME.json of the GPU kernel `c` (name c.name()): Triton's
/// fields, then the "attn" section with the config, tile plan, launch
/// geometry and the kernelParams() list. `c` must pass c.validate() and
/// GpuTileLayout::check(c) (the reader refuses it otherwise); the shared
/// memory is GpuTileLayout(c).sharedBytes.
std::string attentionArtefactJson(const AttentionConfig &c,
                                  const PtxasFigures &figures);

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
  /// The kernel an attention artefact was compiled for; absent for a Triton
  /// kernel. Its launch parameters are kernelParams(*attn).
  std::optional<AttentionConfig> attn;
  PtxasFigures ptxas; // as the .json reports it (attention kernels)
};

/// The artefact behind a kernel of the C API (runtime/AttnRuntime.h), for
/// C++ tools that want more than the C API tells.
const KernelArtefact &artefactOf(const attn_kernel &kernel);

/// Loads and checks a kernel. Returns "" on success, else one line starting
/// with the offending file that names the field, the expected and the actual
/// value, and what to do. Never throws.
std::string loadKernelArtefact(const std::string &jsonPath,
                               KernelArtefact &out);

/// The byte size of each parameter of `.entry NAME(...)` in PTX text (a
/// `.param .align 8 .b8 p[16]` counts 16). Returns "" on success.
std::string ptxEntryParamSizes(const std::string &ptx, const std::string &name,
                               std::vector<int> &sizes);

} // namespace attn::rt

#endif // ATTN_RUNTIME_KERNELARTEFACT_H
