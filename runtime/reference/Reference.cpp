//===- Reference.cpp - The float64 reference for dense attention ----------===//

#include "runtime/reference/Reference.h"

#include "runtime/NoThrow.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attn::rt {

namespace {

const double kNegInf = -std::numeric_limits<double>::infinity();

// A tensor in any Layout seen as [B, H, S, D], its elements read once into
// doubles so that the inner loops do plain arithmetic.
struct HeadView {
  Layout layout = Layout::BHSD;
  int64_t B = 0, H = 0, S = 0, D = 0;
  std::vector<double> data;

  size_t index(int64_t b, int64_t h, int64_t s, int64_t d) const {
    if (layout == Layout::BHSD)
      return size_t(((b * H + h) * S + s) * D + d);
    // BSHD and Packed share one memory order: [B, S, H*D] is [B, S, H, D].
    return size_t(((b * S + s) * H + h) * D + d);
  }
  const double *row(int64_t b, int64_t h, int64_t s) const {
    return data.data() + index(b, h, s, 0);
  }
};

std::vector<int64_t> shapeIn(Layout layout, int64_t b, int64_t h, int64_t s,
                             int64_t d) {
  switch (layout) {
  case Layout::BHSD: return {b, h, s, d};
  case Layout::BSHD: return {b, s, h, d};
  case Layout::Packed: return {b, s, h * d};
  }
  return {};
}

// A tensor built by hand (not read from a file) may disagree with itself;
// reading it anyway would run off the end of its bytes.
std::string checkStorage(const Tensor &t, const std::string &name) {
  for (int64_t d : t.shape)
    if (d < 0)
      return name + ": negative dimension in shape " + shapeString(t.shape);
  if (t.bytes.size() != t.numel() * dtypeSize(t.dtype))
    return name + ": shape " + shapeString(t.shape) + " of " +
           dtypeName(t.dtype) + " needs " +
           std::to_string(t.numel() * dtypeSize(t.dtype)) +
           " bytes, the tensor holds " + std::to_string(t.bytes.size());
  return "";
}

} // namespace

std::string validKeyLengths(const Tensor *kvLengths, int64_t batches, int64_t keys,
                            std::vector<int64_t> &out) {
  out.assign(size_t(batches), keys);
  if (!kvLengths)
    return "";
  if (std::string e = checkStorage(*kvLengths, "kv_lengths"); !e.empty())
    return e;
  if ((kvLengths->dtype != DType::I32 && kvLengths->dtype != DType::I64) ||
      kvLengths->shape != std::vector<int64_t>{batches})
    return std::string("kv_lengths: expected int32 or int64 [") + std::to_string(batches) +
           "], got " + dtypeName(kvLengths->dtype) + " " + shapeString(kvLengths->shape);
  for (int64_t b = 0; b < batches; ++b) {
    double len = kvLengths->get(size_t(b));
    if (len < 0 || len > double(keys))
      return "kv_lengths: entry " + std::to_string(b) + " is " + std::to_string(int64_t(len)) +
             ", outside [0, " + std::to_string(keys) + "] (Skv)";
    out[size_t(b)] = int64_t(len);
  }
  return "";
}

namespace {

std::string makeView(const Tensor &t, const std::string &name, Layout layout,
                     int64_t heads, HeadView &v, bool readData = true) {
  if (std::string e = checkStorage(t, name); !e.empty())
    return e;
  if (!isFloat(t.dtype))
    return name + ": expected a float tensor, got " + dtypeName(t.dtype);
  int64_t rank = layout == Layout::Packed ? 3 : 4;
  if (t.rank() != rank)
    return name + ": layout " + layoutName(layout) + " needs rank " +
           std::to_string(rank) + ", got shape " + shapeString(t.shape);
  v.layout = layout;
  v.B = t.shape[0];
  switch (layout) {
  case Layout::BHSD:
    v.H = t.shape[1], v.S = t.shape[2], v.D = t.shape[3];
    break;
  case Layout::BSHD:
    v.S = t.shape[1], v.H = t.shape[2], v.D = t.shape[3];
    break;
  case Layout::Packed:
    if (heads <= 0)
      return name + ": the packed layout needs a positive head count, got " +
             std::to_string(heads);
    if (t.shape[2] % heads != 0)
      return name + ": last dim " + std::to_string(t.shape[2]) +
             " of shape " + shapeString(t.shape) + " is not a multiple of " +
             std::to_string(heads) + " heads";
    v.S = t.shape[1], v.H = heads, v.D = t.shape[2] / heads;
    break;
  }
  if (readData) {
    v.data.resize(t.numel());
    for (size_t i = 0; i < v.data.size(); ++i)
      v.data[i] = t.get(i);
  }
  return "";
}

// Broadcasting of an explicit mask to [B, Hq, Sq, Skv]: one stride per axis
// of the full shape, 0 where the mask has no such axis or a size-1 axis.
struct MaskView {
  const Tensor *t = nullptr;
  int64_t stride[4] = {0, 0, 0, 0};
  int64_t keys = 0; // the mask's last dim; keys beyond it are masked

  // The additive bias for one element: 0 or -inf for a bool mask.
  double bias(int64_t b, int64_t h, int64_t i, int64_t j) const {
    if (j >= keys)
      return kNegInf;
    double m = t->get(
        size_t(b * stride[0] + h * stride[1] + i * stride[2] + j * stride[3]));
    if (t->dtype == DType::Bool)
      return m != 0 ? 0 : kNegInf;
    return m;
  }
};

std::string makeMaskView(const Tensor &mask, const int64_t full[4],
                         MaskView &m) {
  if (std::string e = checkStorage(mask, "mask"); !e.empty())
    return e;
  if (mask.dtype != DType::Bool && !isFloat(mask.dtype))
    return std::string("mask: expected bool or float, got ") +
           dtypeName(mask.dtype);
  int64_t r = mask.rank();
  if (r < 1 || r > 4)
    return "mask: expected rank 1 to 4, got shape " + shapeString(mask.shape);
  std::string fullShape = shapeString({full[0], full[1], full[2], full[3]});
  m.t = &mask;
  int64_t stride = 1;
  for (int64_t axis = 3; axis >= 4 - r; --axis) {
    int64_t dim = mask.shape[size_t(axis - (4 - r))];
    if (axis == 3) {
      // The last dim is padded (ONNX pads it with "masked"), never
      // broadcast, so a size-1 last dim covers key 0 only.
      if (dim > full[3])
        return "mask: shape " + shapeString(mask.shape) + " has more keys than " +
               fullShape + " ([B, Hq, Sq, Skv])";
      m.keys = dim;
      m.stride[axis] = 1;
    } else {
      if (dim != 1 && dim != full[axis])
        return "mask: shape " + shapeString(mask.shape) +
               " does not broadcast to " + fullShape + " ([B, Hq, Sq, Skv])";
      m.stride[axis] = dim == 1 ? 0 : stride;
    }
    stride *= dim;
  }
  return "";
}

} // namespace

const char *layoutName(Layout l) {
  switch (l) {
  case Layout::BHSD: return "bhsd";
  case Layout::BSHD: return "bshd";
  case Layout::Packed: return "packed";
  }
  return "?";
}

static std::string attention(const Tensor &q, const Tensor &k,
                              const Tensor &v, const Tensor *mask,
                              const Tensor *kvLengths,
                              const Tensor *queryOffsets,
                              const Tensor *blockIdx,
                              const AttentionParams &p, Tensor &out,
                              Tensor &lse, int qkMode, Tensor *qk) {
  if (std::string e = p.validate(); !e.empty())
    return e;
  HeadView Q, K, V;
  if (std::string e = makeView(q, "q", p.layout, p.numQHeads, Q); !e.empty())
    return e;
  if (std::string e = makeView(k, "k", p.layout, p.numKvHeads, K); !e.empty())
    return e;
  if (std::string e = makeView(v, "v", p.layout, p.numKvHeads, V); !e.empty())
    return e;
  auto mismatch = [](const char *what, const char *a, const Tensor &ta,
                     const char *b, const Tensor &tb) {
    return std::string(what) + ": " + a + " has shape " + shapeString(ta.shape) +
           " but " + b + " has shape " + shapeString(tb.shape);
  };
  if (K.B != Q.B)
    return mismatch("batch", "q", q, "k", k);
  if (V.B != K.B || V.H != K.H || V.S != K.S)
    return mismatch("batch, heads and keys", "k", k, "v", v);
  if (K.D != Q.D)
    return mismatch("head dim", "q", q, "k", k);
  if (Q.D == 0)
    return "q: the head dim must be positive, got shape " + shapeString(q.shape);
  if (K.H == 0 || Q.H % K.H != 0)
    return mismatch("query heads must be a multiple of key heads", "q", q, "k",
                    k);
  const int64_t B = Q.B, Hq = Q.H, Sq = Q.S, Skv = K.S, Dv = V.D;
  const int64_t group = Hq / K.H;

  MaskView M;
  const int64_t full[4] = {B, Hq, Sq, Skv};
  if (mask)
    if (std::string e = makeMaskView(*mask, full, M); !e.empty())
      return e;
  std::vector<int64_t> validKeys;
  if (std::string e = validKeyLengths(kvLengths, B, Skv, validKeys); !e.empty())
    return e;
  std::vector<std::optional<int64_t>> offsets(static_cast<size_t>(B));
  if (queryOffsets) {
    if (std::string e = checkStorage(*queryOffsets, "q_offsets"); !e.empty())
      return e;
    if ((queryOffsets->dtype != DType::I32 && queryOffsets->dtype != DType::I64) ||
        queryOffsets->shape != std::vector<int64_t>{B})
      return std::string("q_offsets: expected int32 or int64 [") +
             std::to_string(B) + "], got " + dtypeName(queryOffsets->dtype) +
             " " + shapeString(queryOffsets->shape);
    for (int64_t b = 0; b < B; ++b) {
      double off = queryOffsets->get(size_t(b));
      if (std::fabs(off) > double(kMaxWindowSide))
        return "q_offsets: entry " + std::to_string(b) + " is " +
               std::to_string(int64_t(off)) + ", beyond +-2^62";
      offsets[size_t(b)] = int64_t(off);
    }
  }
  // Block-sparse selection: per (b, hsel, query block) the set of listed
  // key blocks, as a bitmap over the key blocks.
  int64_t hsel = 0, qBlocks = 0, listLen = 0, kvBlocks = 0;
  std::vector<bool> listed;
  if (bool(blockIdx) != bool(p.blocks))
    return "block_idx: given without block sizes or the other way round";
  if (blockIdx) {
    if (std::string e = checkStorage(*blockIdx, "block_idx"); !e.empty())
      return e;
    const auto [qb, kvb] = *p.blocks;
    qBlocks = (Sq + qb - 1) / qb;
    kvBlocks = (Skv + kvb - 1) / kvb;
    const std::vector<int64_t> &shape = blockIdx->shape;
    if (blockIdx->dtype != DType::I32 || shape.size() != 4 || shape[0] != B ||
        shape[2] != qBlocks || !blockHeadsFor(shape[1], Hq, K.H))
      return "block_idx: expected int32 [" + std::to_string(B) + ", Hsel, " +
             std::to_string(qBlocks) + ", K] with Hsel = " + std::to_string(K.H) +
             ", " + std::to_string(Hq) + " or 1, got " + dtypeName(blockIdx->dtype) +
             " " + shapeString(shape);
    hsel = shape[1], listLen = shape[3];
    listed.assign(size_t(B * hsel * qBlocks * kvBlocks), false);
    for (size_t n = 0; n < blockIdx->numel(); ++n) {
      int64_t e = int64_t(blockIdx->get(n));
      if (e < -1 || e >= kvBlocks)
        return "block_idx: entry " + std::to_string(e) + " at flat index " +
               std::to_string(n) + " is outside [-1, " + std::to_string(kvBlocks) +
               ") (-1 pads; ceil(Skv / kv_block) = " + std::to_string(kvBlocks) +
               " key blocks)";
      if (e >= 0)
        listed[size_t(n / size_t(listLen)) * size_t(kvBlocks) + size_t(e)] = true;
    }
  }
  auto blockVisible = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
    if (!blockIdx)
      return true;
    int64_t hs = hsel == 1 ? 0 : hsel == K.H ? h / group : h;
    size_t list = size_t((b * hsel + hs) * qBlocks + i / p.blocks->first);
    return bool(listed[list * size_t(kvBlocks) + size_t(j / p.blocks->second)]);
  };
  if (qk && (qkMode < 0 || qkMode > 3))
    return "qk_matmul_output: mode must be 0 to 3, got " +
           std::to_string(qkMode);

  const double scale = p.scale ? *p.scale : 1.0 / std::sqrt(double(Q.D));
  const double cap = p.softcap;
  out = Tensor::zeros(DType::F64, shapeIn(p.layout, B, Hq, Sq, Dv));
  lse = Tensor::zeros(DType::F64, {B, Hq, Sq});
  if (qk)
    *qk = Tensor::zeros(DType::F64, {B, Hq, Sq, Skv});
  HeadView O;
  O.layout = p.layout, O.B = B, O.H = Hq, O.S = Sq, O.D = Dv;

  std::vector<double> s(static_cast<size_t>(Skv));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t L = validKeys[size_t(b)];
    const int64_t off = p.offset(Sq, L, offsets[size_t(b)]);
    for (int64_t h = 0; h < Hq; ++h) {
      const int64_t hk = h / group; // "repeat_interleave" grouping
      for (int64_t i = 0; i < Sq; ++i) {
        size_t qkRow = size_t(((b * Hq + h) * Sq + i) * Skv);
        const double *qi = Q.row(b, h, i);
        double maxScore = kNegInf;
        for (int64_t j = 0; j < Skv; ++j) {
          const double *kj = K.row(b, hk, j);
          double dot = 0;
          for (int64_t d = 0; d < Q.D; ++d)
            dot += qi[d] * kj[d];
          double score = scale * dot;
          // Softcap before any mask, so that a masked score stays -inf.
          if (cap > 0)
            score = cap * std::tanh(score / cap);
          if (qk && qkMode <= 1)
            qk->set(qkRow + size_t(j), score);
          if (j >= L || !p.visible(p.position(i, off), j) ||
              !blockVisible(b, h, i, j))
            score = kNegInf;
          else if (mask)
            score += M.bias(b, h, i, j);
          s[size_t(j)] = score;
          // NaN propagates (as IEEE max would have it): a NaN or +inf score
          // makes the row NaN, never "no visible key".
          if (std::isnan(score) || score > maxScore)
            maxScore = score;
          if (qk && qkMode == 2)
            qk->set(qkRow + size_t(j), score);
        }
        size_t lseIndex = size_t((b * Hq + h) * Sq + i);
        if (maxScore == kNegInf) {
          // No visible key: out stays 0 (and mode 3 probabilities too).
          lse.set(lseIndex, kNegInf);
          continue;
        }
        double sum = 0;
        for (double &x : s) {
          x = std::exp(x - maxScore);
          sum += x;
        }
        lse.set(lseIndex, maxScore + std::log(sum));
        std::vector<double> acc(size_t(Dv), 0.0);
        for (int64_t j = 0; j < Skv; ++j) {
          double prob = s[size_t(j)] / sum;
          if (qk && qkMode == 3)
            qk->set(qkRow + size_t(j), prob);
          if (prob == 0)
            continue;
          const double *vj = V.row(b, hk, j);
          for (int64_t d = 0; d < Dv; ++d)
            acc[size_t(d)] += prob * vj[d];
        }
        for (int64_t d = 0; d < Dv; ++d)
          out.set(O.index(b, h, i, d), acc[size_t(d)]);
      }
    }
  }
  return "";
}

static std::string merge(const std::vector<Tensor> &outs,
                         const std::vector<Tensor> &lses, Tensor &out,
                         Tensor &lse) {
  if (outs.empty() || outs.size() != lses.size())
    return "merge: need one lse per partial output and at least one partial, "
           "got " + std::to_string(outs.size()) + " outputs and " +
           std::to_string(lses.size()) + " lse";
  const std::vector<int64_t> &shape = outs[0].shape;
  for (size_t n = 0; n < outs.size(); ++n) {
    std::string name = "partial " + std::to_string(n);
    if (std::string e = checkStorage(outs[n], name + " out"); !e.empty())
      return e;
    if (std::string e = checkStorage(lses[n], name + " lse"); !e.empty())
      return e;
    if (!isFloat(outs[n].dtype) || !isFloat(lses[n].dtype))
      return name + ": out and lse must be float tensors";
    if (shape.size() != 4 || outs[n].shape != shape)
      return name + ": out has shape " + shapeString(outs[n].shape) +
             ", expected [B, H, S, D] like partial 0's " + shapeString(shape);
    std::vector<int64_t> rowShape(shape.begin(), shape.end() - 1);
    if (lses[n].shape != rowShape)
      return name + ": lse has shape " + shapeString(lses[n].shape) +
             ", expected " + shapeString(rowShape) + " ([B, H, S] of out)";
  }
  const int64_t D = shape[3];
  const size_t rows = numelOf({shape[0], shape[1], shape[2]});
  out = Tensor::zeros(DType::F64, shape);
  lse = Tensor::zeros(DType::F64, {shape[0], shape[1], shape[2]});
  for (size_t r = 0; r < rows; ++r) {
    double maxLse = kNegInf;
    for (const Tensor &l : lses)
      maxLse = std::max(maxLse, l.get(r));
    if (maxLse == kNegInf) {
      lse.set(r, kNegInf);
      continue;
    }
    double total = 0;
    for (const Tensor &l : lses)
      total += std::exp(l.get(r) - maxLse);
    const double merged = maxLse + std::log(total);
    lse.set(r, merged);
    for (size_t n = 0; n < outs.size(); ++n) {
      double weight = std::exp(lses[n].get(r) - merged);
      if (weight == 0)
        continue; // an empty partial's out is 0 by contract; never read it
      for (int64_t d = 0; d < D; ++d) {
        size_t at = r * size_t(D) + size_t(d);
        out.set(at, out.get(at) + weight * outs[n].get(at));
      }
    }
  }
  return "";
}

static std::string relayout(const Tensor &in, Layout from, Layout to,
                            int64_t numHeads, Tensor &out) {
  HeadView src;
  if (std::string e = makeView(in, "convertLayout input", from, numHeads, src,
                               /*readData=*/false);
      !e.empty())
    return e;
  HeadView dst = src;
  dst.layout = to;
  out = Tensor::zeros(in.dtype, shapeIn(to, src.B, src.H, src.S, src.D));
  const size_t width = dtypeSize(in.dtype);
  for (int64_t b = 0; b < src.B; ++b)
    for (int64_t h = 0; h < src.H; ++h)
      for (int64_t s = 0; s < src.S; ++s)
        for (int64_t d = 0; d < src.D; ++d)
          std::copy_n(in.bytes.begin() + src.index(b, h, s, d) * width, width,
                      out.bytes.begin() + dst.index(b, h, s, d) * width);
  return "";
}

// The public entry points: no exception escapes (a shape too large to
// allocate is an error line).
std::string referenceAttention(const Tensor &q, const Tensor &k,
                               const Tensor &v, const Tensor *mask,
                               const Tensor *kvLengths,
                               const Tensor *queryOffsets,
                               const Tensor *blockIdx,
                               const AttentionParams &p, Tensor &out,
                               Tensor &lse, int qkMode, Tensor *qk) {
  return withoutExceptions("reference", [&] {
    return attention(q, k, v, mask, kvLengths, queryOffsets, blockIdx, p, out,
                     lse, qkMode, qk);
  });
}

std::string referenceMerge(const std::vector<Tensor> &outs,
                           const std::vector<Tensor> &lses, Tensor &out,
                           Tensor &lse) {
  return withoutExceptions("merge",
                           [&] { return merge(outs, lses, out, lse); });
}

std::string convertLayout(const Tensor &in, Layout from, Layout to,
                          int64_t numHeads, Tensor &out) {
  return withoutExceptions("convertLayout", [&] {
    return relayout(in, from, to, numHeads, out);
  });
}

} // namespace attn::rt
