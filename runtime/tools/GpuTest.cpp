//===- GpuTest.cpp - attn-gpu-test ----------------------------------------===//
//
// attn-gpu-test [--seed N] [--load-only] KERNEL.json...
// Runs each attention kernel on random inputs through the runtime's C API
// and compares its out (and lse, when compiled with it) with the float64
// reference, in three configurations that cover short and long keys, more
// queries than keys, one to three key/value heads (the query heads are the
// kernel's group times as many), [B, S, H, D] buffers passed as strided
// views, a mask shorter than seq_kv and broadcast over heads or batch,
// random per-batch query offsets (kernels with q_offsets), random
// block-sparse lists with padding, duplicates, an empty list and entries
// beyond the keys (skipped by the kernel, -1 for the reference), and rows
// that see no key (which must come out exactly zero). Selection kernels get
// keys pooled by mean (mean_key: each block's mean key; in the kernel's
// type) as k, compressed values as v
// and the original lengths (0 and 1 among them); their output is compared
// with the reference's compressed branch and their lists with its block
// scores (referenceBlockScores: ascending, eligible, forced blocks in, and no
// unchosen block above a chosen one beyond f32 rounding). Relative error bounds: 1e-2
// for bf16, 3e-3 for f16, 1e-4 for f32; no NaN anywhere.
// One line per kernel, then "N passed, N failed"; exits 0 when all passed,
// 1 when one failed, 77 (skipped) when there is no CUDA device.
// --load-only loads and checks the artefacts alone, which needs no GPU.
//
//===----------------------------------------------------------------------===//

#include "runtime/AttnRuntime.h"
#include "runtime/reference/Compare.h"
#include "runtime/CudaDriver.h"
#include "runtime/KernelArtefact.h"
#include "runtime/reference/Reference.h"
#include "runtime/reference/Sparse.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using namespace attn::rt;

namespace {

constexpr int kSkipped = 77;
const double kInf = std::numeric_limits<double>::infinity();

const CudaDriver *driver = nullptr;

// A device allocation, freed with its owner.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (ptr_)
      driver->cuMemFree(ptr_);
  }
  std::string allocate(size_t bytes) {
    CUresult r = driver->cuMemAlloc(&ptr_, std::max<size_t>(bytes, 16));
    return r == CUDA_SUCCESS ? "" : driver->errorText("cuMemAlloc", r);
  }
  void *data() const { return reinterpret_cast<void *>(ptr_); }
  CUdeviceptr ptr() const { return ptr_; }

private:
  CUdeviceptr ptr_ = 0;
};

int attnDType(DType t) {
  switch (t) {
  case DType::F16: return ATTN_F16;
  case DType::BF16: return ATTN_BF16;
  case DType::F32: return ATTN_F32;
  case DType::Bool: return ATTN_BOOL;
  case DType::I32: return ATTN_I32;
  default: return ATTN_I64;
  }
}

// A host tensor placed on the device with the given strides (in elements),
// the rest of the allocation filled with `fill` bytes.
struct DeviceTensor {
  DeviceBuffer buffer;
  attn_tensor view{};
  size_t elements = 0; // allocated

  std::string upload(const Tensor &t, std::vector<int64_t> strides,
                     uint8_t fill) {
    const size_t es = dtypeSize(t.dtype);
    elements = 1;
    for (size_t i = 0; i < t.shape.size(); ++i)
      elements += size_t((t.shape[i] - 1) * strides[i]);
    std::vector<uint8_t> staging(elements * es, fill);
    forEach(t, strides, [&](size_t flat, size_t offset) {
      std::memcpy(&staging[offset * es], &t.bytes[flat * es], es);
    });
    if (std::string e = buffer.allocate(staging.size()); !e.empty())
      return e;
    view.data = buffer.data();
    view.dtype = attnDType(t.dtype);
    view.rank = int(t.shape.size());
    for (size_t i = 0; i < t.shape.size(); ++i)
      view.shape[i] = t.shape[i], view.strides[i] = strides[i];
    CUresult r =
        driver->cuMemcpyHtoD(buffer.ptr(), staging.data(), staging.size());
    return r == CUDA_SUCCESS ? "" : driver->errorText("cuMemcpyHtoD", r);
  }

  // Reads the view back into `t` (whose dtype and shape are set).
  std::string download(Tensor &t) const {
    const size_t es = dtypeSize(t.dtype);
    std::vector<uint8_t> staging(elements * es);
    if (CUresult r = driver->cuMemcpyDtoH(staging.data(), buffer.ptr(),
                                          staging.size());
        r != CUDA_SUCCESS)
      return driver->errorText("cuMemcpyDtoH", r);
    t.bytes.assign(t.numel() * es, 0);
    std::vector<int64_t> strides(view.strides, view.strides + view.rank);
    forEach(t, strides, [&](size_t flat, size_t offset) {
      std::memcpy(&t.bytes[flat * es], &staging[offset * es], es);
    });
    return "";
  }

  // Calls f(flat index in t, element offset in the strided buffer).
  template <typename F>
  static void forEach(const Tensor &t, const std::vector<int64_t> &strides,
                      F f) {
    std::vector<int64_t> index(t.shape.size(), 0);
    for (size_t flat = 0; flat < t.numel(); ++flat) {
      int64_t offset = 0;
      for (size_t i = 0; i < index.size(); ++i)
        offset += index[i] * strides[i];
      f(flat, size_t(offset));
      for (size_t i = index.size(); i-- > 0;) {
        if (++index[i] < t.shape[i])
          break;
        index[i] = 0;
      }
    }
  }
};

std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t i = shape.size(); i-- > 1;)
    strides[i - 1] = strides[i] * shape[i];
  return strides;
}

// A [B, H, S, D] tensor stored as [B, S, H, D].
std::vector<int64_t> bshdStrides(const std::vector<int64_t> &shape) {
  const int64_t H = shape[1], S = shape[2], D = shape[3];
  return {S * H * D, D, H * D, 1};
}

struct Config {
  int64_t batch, kvHeads, seqQ, seqKv;
  bool bshd;              // q, k, v, out as [B, S, H, D] buffers
  bool maskBatch;         // the mask has B rows, else 1 (broadcast)
  bool maskHeads;         // the mask has Hq heads, else 1
  int64_t maskKeysShort;  // mask_keys = seq_kv - this
  std::vector<int64_t> lengths;

  std::string describe(int64_t group) const {
    return "B=" + std::to_string(batch) + " Hq=" +
           std::to_string(group * kvHeads) + " Hkv=" + std::to_string(kvHeads) +
           " Sq=" + std::to_string(seqQ) + " Skv=" + std::to_string(seqKv) +
           (bshd ? " bshd" : " bhsd");
  }
};

const std::vector<Config> kConfigs = {
    {2, 2, 77, 130, false, true, true, 0, {127, 65}},
    {2, 1, 130, 1029, true, true, false, 7, {0, 1029}},
    {2, 3, 130, 77, false, false, false, 0, {77, 1}},
};

double toleranceOf(DType t) {
  return t == DType::BF16 ? 1e-2 : t == DType::F16 ? 3e-3 : 1e-4;
}

Tensor randomNormal(DType dtype, std::vector<int64_t> shape,
                    std::mt19937_64 &rng) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  std::normal_distribution<double> normal(0.0, 1.0);
  for (size_t i = 0; i < t.numel(); ++i)
    t.set(i, normal(rng));
  return t;
}

// Keeps about 80% of the keys; rows (b 0, i 1) and (last b, i Sq-1) keep
// none. Bool masks keep with true; float masks add a bias or -inf.
Tensor randomMask(DType dtype, const Config &c, int64_t qHeads,
                  std::mt19937_64 &rng) {
  const int64_t keys = c.seqKv - c.maskKeysShort;
  const int64_t batch = c.maskBatch ? c.batch : 1;
  const int64_t heads = c.maskHeads ? qHeads : 1;
  Tensor m = Tensor::zeros(dtype, {batch, heads, c.seqQ, keys});
  std::uniform_real_distribution<double> u(0.0, 1.0);
  size_t flat = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < c.seqQ; ++i) {
        bool emptyRow =
            (b == 0 && i == 1) || (b == batch - 1 && i == c.seqQ - 1);
        for (int64_t j = 0; j < keys; ++j, ++flat) {
          bool keep = !emptyRow && u(rng) < 0.8;
          double bias = u(rng) - 0.5;
          m.set(flat, dtype == DType::Bool ? double(keep)
                                           : (keep ? bias : -kInf));
        }
      }
  return m;
}

// Block lists idx[B, Hsel, ceil(Sq / q_block), 6] for kernels with
// block_idx: random blocks, -1 padding, duplicates, entries beyond the
// keys; list 0 is empty. Returns (what the kernel gets, what the
// reference gets: out-of-range entries -1, as the kernel skips them).
std::pair<Tensor, Tensor> randomBlockLists(const AttentionConfig &a,
                                           const Config &c,
                                           std::mt19937_64 &rng) {
  auto [qBlock, kvBlock] = *a.blocks;
  const int64_t hsel = a.blockHeads == BlockHeads::Shared    ? 1
                       : a.blockHeads == BlockHeads::KeyHead ? c.kvHeads
                                                             : c.kvHeads * a.group;
  const int64_t qBlocks = (c.seqQ + qBlock - 1) / qBlock, K = 6;
  const int64_t blocks = (c.seqKv + kvBlock - 1) / kvBlock;
  Tensor idx = Tensor::zeros(DType::I32, {c.batch, hsel, qBlocks, K});
  Tensor clean = idx;
  std::uniform_int_distribution<int64_t> pick(-1, blocks + 1);
  for (size_t list = 0; list < idx.numel() / K; ++list)
    for (int64_t e = 0; e < K; ++e) {
      size_t at = list * size_t(K) + size_t(e);
      int64_t x = list == 0 ? -1 : e == K - 1 ? int64_t(idx.get(at - 2)) : pick(rng);
      idx.set(at, double(x));
      clean.set(at, double(x < blocks ? x : -1));
    }
  return {idx, clean};
}

struct Outcome {
  std::string error;
  double outRel = 0, lseRel = 0;
};

// Per-batch query offsets from well before the first key (every row sees
// nothing under a causal mask) to past the last one.
Tensor randomOffsets(DType dtype, const Config &c, std::mt19937_64 &rng) {
  Tensor t = Tensor::zeros(dtype, {c.batch});
  std::uniform_int_distribution<int64_t> u(-c.seqQ - 8, c.seqKv + 8);
  for (int64_t b = 0; b < c.batch; ++b)
    t.set(size_t(b), double(u(rng)));
  return t;
}

Outcome runConfig(attn_kernel *kernel, const AttentionConfig &a,
                  const Config &c, std::mt19937_64 &rng) {
  Outcome o;
  const int64_t B = c.batch, Sq = c.seqQ, Skv = c.seqKv;
  const int64_t Hkv = c.kvHeads, Hq = a.group * Hkv;
  Tensor q = randomNormal(a.dtype, {B, Hq, Sq, a.headDim}, rng);
  Tensor k = randomNormal(a.dtype, {B, Hkv, Skv, a.headDim}, rng);
  Tensor v = randomNormal(a.dtype, {B, Hkv, Skv, a.valueDim}, rng);
  Tensor out = Tensor::zeros(a.dtype, {B, Hq, Sq, a.valueDim});
  Tensor lse = Tensor::zeros(DType::F32, {B, Hq, Sq});
  Tensor mask, lengths, offsets, blocks, cleanBlocks;
  if (a.blocks)
    std::tie(blocks, cleanBlocks) = randomBlockLists(a, c, rng);
  if (a.maskDtype)
    mask = randomMask(*a.maskDtype, c, Hq, rng);
  if (a.lengthsDtype) {
    lengths = Tensor::zeros(*a.lengthsDtype, {B});
    for (int64_t b = 0; b < B; ++b)
      lengths.set(size_t(b), double(std::min(c.lengths[size_t(b)], Skv)));
  }
  if (a.offsetsDtype)
    offsets = randomOffsets(*a.offsetsDtype, c, rng);

  auto layout = [&](const Tensor &t) {
    return c.bshd ? bshdStrides(t.shape) : contiguousStrides(t.shape);
  };
  DeviceTensor dq, dk, dv, dout, dmask, dlengths, doffsets, dlse, dblocks;
  std::string e;
  if ((e = dq.upload(q, layout(q), 0)).empty() &&
      (e = dk.upload(k, layout(k), 0)).empty() &&
      (e = dv.upload(v, layout(v), 0)).empty() &&
      // NaN bytes, so that an element the kernel never writes shows.
      (e = dout.upload(out, layout(out), 0xff)).empty() && a.lse)
    e = dlse.upload(lse, contiguousStrides(lse.shape), 0xff);
  if (e.empty() && a.maskDtype) {
    // Rows padded to 16 bytes, as the kernel's row copies need.
    const int64_t perRow = 16 / int64_t(dtypeSize(*a.maskDtype));
    std::vector<int64_t> shape = mask.shape;
    shape[3] = (shape[3] + perRow - 1) / perRow * perRow;
    e = dmask.upload(mask, contiguousStrides(shape), 0);
  }
  if (e.empty() && a.lengthsDtype)
    e = dlengths.upload(lengths, {1}, 0);
  if (e.empty() && a.offsetsDtype)
    e = doffsets.upload(offsets, {1}, 0);
  if (e.empty() && a.blocks)
    e = dblocks.upload(blocks, contiguousStrides(blocks.shape), 0);
  if (!e.empty())
    return {e};

  attn_attention_args args = {&dq.view,
                              &dk.view,
                              &dv.view,
                              a.maskDtype ? &dmask.view : nullptr,
                              a.lengthsDtype ? &dlengths.view : nullptr,
                              a.offsetsDtype ? &doffsets.view : nullptr,
                              &dout.view,
                              a.lse ? &dlse.view : nullptr,
                              a.blocks ? &dblocks.view : nullptr};
  attn_status s = attn_attention_launch(kernel, &args, nullptr);
  if (s != ATTN_OK)
    return {std::string(attn_status_name(s)) + ": " + attn_last_error()};
  if (CUresult r = driver->cuCtxSynchronize(); r != CUDA_SUCCESS)
    return {"the kernel failed: " + driver->errorText("cuCtxSynchronize", r)};
  if ((e = dout.download(out)).empty() && a.lse)
    e = dlse.download(lse);
  if (!e.empty())
    return {e};

  AttentionParams p;
  static_cast<AttentionSemantics &>(p) = a;
  p.layout = Layout::BHSD;
  Tensor refOut, refLse;
  if (std::string err = referenceAttention(
          q, k, v, a.maskDtype ? &mask : nullptr,
          a.lengthsDtype ? &lengths : nullptr,
          a.offsetsDtype ? &offsets : nullptr, a.blocks ? &cleanBlocks : nullptr,
          p, refOut, refLse);
      !err.empty())
    return {"reference: " + err};

  const Tolerance tol{toleranceOf(a.dtype), kInf};
  Comparison cmp = compareTensors(out, refOut, tol);
  o.outRel = cmp.rel;
  if (!cmp.problem.empty())
    return {"out: " + cmp.problem};
  // A row that sees no key is exactly zero (not merely close).
  const int64_t Dv = a.valueDim;
  for (size_t row = 0; row < refLse.numel(); ++row) {
    if (refLse.get(row) != -kInf)
      continue;
    for (int64_t d = 0; d < Dv; ++d)
      if (out.get(row * size_t(Dv) + size_t(d)) != 0)
        return {"out: row " + std::to_string(row) +
                " sees no key but is not zero at d=" + std::to_string(d)};
  }
  if (a.lse) {
    cmp = compareTensors(lse, refLse, tol);
    o.lseRel = cmp.rel;
    if (!cmp.problem.empty())
      return {"lse: " + cmp.problem};
  }
  return o;
}

// A selection kernel (AttentionConfig::selection) against referenceSelect
// and referenceBlockScores, through the same compressed keys.
Outcome runSelection(attn_kernel *kernel, const AttentionConfig &a,
                     const Config &c, std::mt19937_64 &rng) {
  const int64_t B = c.batch, Sq = c.seqQ, Skv = c.seqKv;
  const int64_t Hkv = c.kvHeads, Hq = a.group * Hkv;
  Selection s;
  const bool meanKey = a.selection->meanKey();
  s.method = a.selection->method;
  s.block = a.selection->block;
  s.topK = a.selection->k;
  s.init = a.selection->init;
  s.local = a.selection->local;
  s.perQueryHead = a.blockHeads == BlockHeads::QueryHead;
  if (!meanKey) {
    s.compression.block = a.compressedKeys->first;
    s.compression.stride = a.compressedKeys->second;
  }
  s.scale = a.scale;
  const int64_t Sc = meanKey ? (Skv + s.block - 1) / s.block : s.compression.tokens(Skv);
  if (Sc < 1)
    return {}; // no compressed token: the runtime takes no empty k
  Tensor q = randomNormal(a.dtype, {B, Hq, Sq, a.headDim}, rng);
  Tensor k = randomNormal(a.dtype, {B, Hkv, Skv, a.headDim}, rng);
  Tensor lengths = Tensor::zeros(*a.lengthsDtype, {B});
  for (int64_t b = 0; b < B; ++b)
    lengths.set(size_t(b), double(std::min(c.lengths[size_t(b)], Skv)));
  // k pooled by mean (the kernel's type), or each block's mean over its
  // valid keys (mean_key).
  Tensor pooled, kc = Tensor::zeros(a.dtype, {B, Hkv, Sc, a.headDim});
  if (meanKey) {
    const int64_t D = a.headDim;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hkv; ++h)
        for (int64_t j = 0; j < Sc; ++j) {
          int64_t end = std::min((j + 1) * s.block, int64_t(lengths.get(size_t(b))));
          for (int64_t d = 0; d < D; ++d) {
            double sum = 0;
            for (int64_t key = j * s.block; key < end; ++key)
              sum += k.get(size_t(((b * Hkv + h) * Skv + key) * D + d));
            kc.set(size_t(((b * Hkv + h) * Sc + j) * D + d),
                   end > j * s.block ? sum / double(end - j * s.block) : 0.0);
          }
        }
  } else {
    if (std::string e = referenceCompress(k, s.compression, pooled); !e.empty())
      return {"reference: " + e};
    for (size_t i = 0; i < kc.numel(); ++i)
      kc.set(i, pooled.get(i));
  }
  Tensor vc = randomNormal(a.dtype, {B, Hkv, Sc, std::max<int64_t>(a.valueDim, 1)}, rng);
  Tensor out = Tensor::zeros(a.dtype, {B, Hq, Sq, std::max<int64_t>(a.valueDim, 1)});
  Tensor lse = Tensor::zeros(DType::F32, {B, Hq, Sq});
  const int64_t hsel = s.perQueryHead ? Hq : Hkv;
  Tensor idx = Tensor::zeros(DType::I32, {B, hsel, Sq, s.topK});

  auto layout = [&](const Tensor &t) {
    return c.bshd ? bshdStrides(t.shape) : contiguousStrides(t.shape);
  };
  const bool values = a.hasValues();
  DeviceTensor dq, dk, dv, dout, dlengths, dlse, didx;
  std::string e;
  if ((e = dq.upload(q, layout(q), 0)).empty() && (e = dk.upload(kc, layout(kc), 0)).empty() &&
      (e = dlengths.upload(lengths, {1}, 0)).empty() &&
      (e = didx.upload(idx, contiguousStrides(idx.shape), 0xff)).empty() && values &&
      (e = dv.upload(vc, layout(vc), 0)).empty())
    e = dout.upload(out, layout(out), 0xff);
  if (e.empty() && a.lse)
    e = dlse.upload(lse, contiguousStrides(lse.shape), 0xff);
  if (!e.empty())
    return {e};
  attn_attention_args args = {};
  args.q = &dq.view;
  args.k = &dk.view;
  args.v = values ? &dv.view : nullptr;
  args.kv_lengths = &dlengths.view;
  args.out = values ? &dout.view : nullptr;
  args.lse = a.lse ? &dlse.view : nullptr;
  args.select_idx = &didx.view;
  if (attn_status st = attn_attention_launch(kernel, &args, nullptr); st != ATTN_OK)
    return {std::string(attn_status_name(st)) + ": " + attn_last_error()};
  if (CUresult r = driver->cuCtxSynchronize(); r != CUDA_SUCCESS)
    return {"the kernel failed: " + driver->errorText("cuCtxSynchronize", r)};
  if ((e = didx.download(idx)).empty() && values)
    e = dout.download(out);
  if (!e.empty())
    return {e};

  // The lists against the reference's ranked scores (its own lists would
  // order f32 near-ties differently); its lists are computed only for the
  // output beside them.
  Tensor refIdx, refOut, scores;
  const Tensor *given = meanKey ? nullptr : &kc;
  if (values)
    if (std::string err = referenceSelect(q, k, s, refIdx, &lengths, &vc, &refOut, given);
        !err.empty())
      return {"reference: " + err};
  if (std::string err = referenceBlockScores(q, k, s, scores, &lengths, given); !err.empty())
    return {"reference: " + err};
  // (mean_key: the reference averages the keys in float64, the kernel reads
  // means rounded to its type.)
  if (std::string err = checkSelection(idx, scores, meanKey ? 2e-2 : 1e-3); !err.empty())
    return {"select_idx: " + err};
  Outcome o;
  if (values) {
    Comparison cmp = compareTensors(out, refOut, Tolerance{toleranceOf(a.dtype), kInf});
    o.outRel = cmp.rel;
    if (!cmp.problem.empty())
      return {"out: " + cmp.problem};
  }
  return o;
}

enum class Verdict { Pass, Fail, Skip };

/// Loads every artefact (a load failure is a FAIL line), runs `check` on the
/// loaded ones, frees them and prints "N passed, N failed".
int forEachKernel(const std::vector<const char *> &paths,
                  const std::function<Verdict(attn_kernel *, const KernelArtefact &)> &check) {
  int passed = 0, failed = 0;
  for (const char *path : paths) {
    attn_kernel *kernel = nullptr;
    if (attn_kernel_load(path, &kernel) != ATTN_OK) {
      std::printf("FAIL %s\n", attn_last_error());
      ++failed;
      continue;
    }
    Verdict v = check(kernel, artefactOf(*kernel));
    passed += v == Verdict::Pass;
    failed += v == Verdict::Fail;
    std::fflush(stdout);
    attn_kernel_free(kernel);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

// --load-only: what the runtime makes of each artefact, without a GPU.
int loadAll(const std::vector<const char *> &paths) {
  return forEachKernel(paths, [](attn_kernel *, const KernelArtefact &art) {
    std::printf("LOADED %s: %s, %s", art.name.c_str(),
                art.attn ? "attention" : "raw", art.imageIsPtx ? "ptx" : "cubin");
    if (art.ptxParamsKnown)
      std::printf(", %zu parameters", art.ptxParamSizes.size());
    std::printf("\n");
    return Verdict::Pass;
  });
}

} // namespace

int main(int argc, char **argv) {
  uint64_t seed = 1234;
  bool loadOnly = false;
  std::vector<const char *> paths;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
      seed = std::strtoull(argv[++i], nullptr, 10);
    else if (std::strcmp(argv[i], "--load-only") == 0)
      loadOnly = true;
    else
      paths.push_back(argv[i]);
  }
  if (paths.empty()) {
    std::fprintf(stderr,
                 "usage: attn-gpu-test [--seed N] [--load-only] KERNEL.json...\n");
    return 2;
  }
  if (loadOnly)
    return loadAll(paths);
  std::string why;
  driver = cudaDriver(why);
  if (!driver) {
    std::printf("%s\n", why.c_str());
    return kSkipped;
  }

  return forEachKernel(paths, [&](attn_kernel *kernel, const KernelArtefact &art) {
    // The config the runtime read, for the inputs and the reference.
    const char *name = attn_kernel_name(kernel);
    if (!art.attn) {
      std::printf("SKIP %s: not an attention kernel (no \"attn\" section)\n",
                  name);
      return Verdict::Skip;
    }
    std::mt19937_64 rng(seed);
    std::string error;
    double outRel = 0, lseRel = 0;
    for (const Config &c : kConfigs) {
      Outcome o = art.attn->selection ? runSelection(kernel, *art.attn, c, rng)
                                      : runConfig(kernel, *art.attn, c, rng);
      if (!o.error.empty()) {
        error = c.describe(art.attn->group) + ": " + o.error;
        break;
      }
      outRel = std::max(outRel, o.outRel);
      lseRel = std::max(lseRel, o.lseRel);
    }
    if (!error.empty()) {
      std::printf("FAIL %s: %s\n", name, error.c_str());
      return Verdict::Fail;
    }
    std::printf("PASS %s  out rel=%.2e", name, outRel);
    if (art.attn->lse)
      std::printf(" lse rel=%.2e", lseRel);
    std::printf("\n");
    return Verdict::Pass;
  });
}
