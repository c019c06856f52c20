//===- Sparse.cpp - Float64 reference of sparse and hierarchical attention ===//

#include "runtime/reference/Sparse.h"

#include "runtime/NoThrow.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace attn::rt {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

/// A canonical [B, H, S, D] tensor as float64.
struct Bhsd {
  int64_t B = 0, H = 0, S = 0, D = 0;
  std::vector<double> x;
  const double *row(int64_t b, int64_t h, int64_t s) const {
    return &x[size_t(((b * H + h) * S + s) * D)];
  }
  double *row(int64_t b, int64_t h, int64_t s) {
    return &x[size_t(((b * H + h) * S + s) * D)];
  }
  Tensor tensor() const {
    Tensor t = Tensor::zeros(DType::F64, {B, H, S, D});
    for (size_t i = 0; i < x.size(); ++i)
      t.set(i, x[i]);
    return t;
  }
};

std::string load(const Tensor &t, const char *name, Bhsd &out) {
  if (!isFloat(t.dtype) || t.rank() != 4)
    return std::string(name) + ": expected a float [B, H, S, D] tensor, got " +
           dtypeName(t.dtype) + " " + shapeString(t.shape);
  out.B = t.shape[0], out.H = t.shape[1], out.S = t.shape[2], out.D = t.shape[3];
  out.x.resize(t.numel());
  for (size_t i = 0; i < t.numel(); ++i)
    out.x[i] = t.get(i);
  return "";
}

/// Loads `t`, compressed tokens of keys shaped like `k` under `c`:
/// [k.B, k.H, c.tokens(k.S), d] (`dName` in the message), any last dim when
/// d < 0.
std::string loadCompressed(const Tensor &t, const char *name, const Bhsd &k,
                           const Compression &c, int64_t d, const char *dName,
                           Bhsd &out) {
  if (std::string e = load(t, name, out); !e.empty())
    return e;
  if (std::string e = c.validate(); !e.empty())
    return e;
  int64_t dim = d < 0 ? out.D : d;
  if (out.B != k.B || out.H != k.H || out.S != c.tokens(k.S) || out.D != dim)
    return std::string(name) + ": expected [B, Hkv, Sc, " + dName + "] = " +
           shapeString({k.B, k.H, c.tokens(k.S), dim}) + ", got " + shapeString(t.shape);
  return "";
}

double dot(const double *a, const double *b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

Bhsd compress(const Bhsd &k, const Compression &c) {
  Bhsd out;
  out.B = k.B, out.H = k.H, out.S = c.tokens(k.S), out.D = k.D;
  out.x.assign(size_t(out.B * out.H * out.S * out.D), 0.0);
  for (int64_t b = 0; b < k.B; ++b)
    for (int64_t h = 0; h < k.H; ++h)
      for (int64_t t = 0; t < out.S; ++t) {
        double *o = out.row(b, h, t);
        for (int64_t d = 0; d < k.D; ++d) {
          double acc = c.pool == Pool::Max ? -kInf : 0.0;
          for (int64_t u = 0; u < c.block; ++u) {
            double x = k.row(b, h, t * c.stride + u)[d];
            if (c.pool == Pool::Max)
              acc = std::max(acc, x);
            else
              acc += (c.pool == Pool::Weighted ? c.weights[size_t(u)] : 1.0) * x;
          }
          o[d] = c.pool == Pool::Mean ? acc / double(c.block) : acc;
        }
      }
  return out;
}

/// Compressed token t is visible at position p (section 3, decided): the
/// whole span has been seen and lies within the L valid keys.
bool compressedVisible(const Compression &c, int64_t t, int64_t p, int64_t L) {
  return p >= t * c.stride + c.block - 1 && t * c.stride + c.block <= L;
}

/// softmax(scale * q . kc[t]) over the visible compressed tokens (all 0
/// when none is visible).
std::vector<double> compressedProbs(const double *q, const Bhsd &kc, int64_t b,
                                    int64_t hk, int64_t p, int64_t L,
                                    const Compression &c, double scale) {
  std::vector<double> prob(size_t(kc.S), 0.0);
  double mx = -kInf;
  for (int64_t t = 0; t < kc.S; ++t)
    if (compressedVisible(c, t, p, L)) {
      prob[size_t(t)] = scale * dot(q, kc.row(b, hk, t), kc.D);
      mx = std::max(mx, prob[size_t(t)]);
    }
  if (mx == -kInf)
    return std::vector<double>(size_t(kc.S), 0.0);
  double sum = 0;
  for (int64_t t = 0; t < kc.S; ++t)
    if (compressedVisible(c, t, p, L))
      sum += (prob[size_t(t)] = std::exp(prob[size_t(t)] - mx));
    else
      prob[size_t(t)] = 0;
  for (double &x : prob)
    x /= sum;
  return prob;
}

/// The attention over the compressed tokens, F64 [B, Hq, Sq, Dv]:
/// out[b, h, i] = sum_t pc[t] * vc[b, h / G, t], queries bottom-right over
/// each element's valid keys (zero where no compressed token is visible).
Bhsd compressedAttention(const Bhsd &q, const Bhsd &kc, const Bhsd &vc,
                         const std::vector<int64_t> &lengths, const Compression &c,
                         double scale) {
  Bhsd out;
  out.B = q.B, out.H = q.H, out.S = q.S, out.D = vc.D;
  out.x.assign(size_t(out.B * out.H * out.S * out.D), 0.0);
  const int64_t G = q.H / kc.H;
  for (int64_t b = 0; b < q.B; ++b)
    for (int64_t h = 0; h < q.H; ++h)
      for (int64_t i = 0; i < q.S; ++i) {
        const int64_t L = lengths[size_t(b)];
        std::vector<double> pc =
            compressedProbs(q.row(b, h, i), kc, b, h / G, i + L - q.S, L, c, scale);
        double *o = out.row(b, h, i);
        for (int64_t t = 0; t < kc.S; ++t)
          for (int64_t d = 0; d < vc.D; ++d)
            o[d] += pc[size_t(t)] * vc.row(b, h / G, t)[d];
      }
  return out;
}

/// Sub-blocks of stride d that compressed span t shares with block j.
int64_t overlap(const Compression &c, int64_t block, int64_t t, int64_t j) {
  int64_t per = block / c.stride;
  int64_t lo = std::max(t, j * per);
  int64_t hi = std::min(t + c.block / c.stride - 1, (j + 1) * per - 1);
  return std::max<int64_t>(0, hi - lo + 1);
}

/// The scores selection ranks: ineligible blocks -inf, forced ones +inf.
void rankScores(std::vector<double> &score, const Selection &s, int64_t p, int64_t L) {
  int64_t c = p >= 0 && L > 0 ? std::min(p, L - 1) / s.block : -1;
  for (int64_t j = 0; j < int64_t(score.size()); ++j)
    if (!(p >= 0 && j * s.block <= p && j * s.block < L))
      score[size_t(j)] = -kInf;
    else if (j < s.init || (j >= c - s.local + 1 && j <= c))
      score[size_t(j)] = kInf;
}

/// The list of one query from its ranked scores: ties to the lower number,
/// top K ascending, -1 padded.
void pick(const std::vector<double> &score, const Selection &s, int32_t *list) {
  std::vector<int64_t> eligible;
  for (int64_t j = 0; j < int64_t(score.size()); ++j)
    if (score[size_t(j)] != -kInf)
      eligible.push_back(j);
  std::stable_sort(eligible.begin(), eligible.end(), [&](int64_t a, int64_t b) {
    return score[size_t(a)] > score[size_t(b)];
  });
  eligible.resize(std::min<size_t>(eligible.size(), size_t(s.topK)));
  std::sort(eligible.begin(), eligible.end());
  for (int64_t n = 0; n < s.topK; ++n)
    list[n] = n < int64_t(eligible.size()) ? int32_t(eligible[size_t(n)]) : -1;
}

std::string select(const Bhsd &q, const Bhsd &k, const Selection &s,
                   const std::vector<int64_t> &lengths, std::vector<int32_t> &idx,
                   int64_t &hsel, std::vector<double> *ranked = nullptr,
                   Bhsd *compressedKeys = nullptr, const Bhsd *givenKeys = nullptr) {
  if (std::string e = s.validate(); !e.empty())
    return e;
  const int64_t G = q.H / k.H;
  const int64_t blocks = (k.S + s.block - 1) / s.block;
  const double scale = s.scale ? *s.scale : 1.0 / std::sqrt(double(q.D));
  hsel = s.perQueryHead ? q.H : k.H;
  Bhsd kc;
  const bool prob = s.method == ScoreMethod::SoftmaxProb ||
                    s.method == ScoreMethod::SoftmaxProbMax;
  if (prob)
    kc = givenKeys ? *givenKeys : compress(k, s.compression);
  // Per-block key summaries: mean (mean_key), min and max (key_bound).
  std::vector<double> mean, lo, hi;
  if (!prob) {
    size_t n = size_t(k.B * k.H * blocks * k.D);
    mean.assign(n, 0.0), lo.assign(n, kInf), hi.assign(n, -kInf);
    for (int64_t b = 0; b < k.B; ++b)
      for (int64_t h = 0; h < k.H; ++h)
        for (int64_t j = 0; j < blocks; ++j) {
          // Over the block's valid keys (none: an ineligible block).
          int64_t end = std::min((j + 1) * s.block, lengths[size_t(b)]);
          size_t base = size_t(((b * k.H + h) * blocks + j) * k.D);
          for (int64_t key = j * s.block; key < end; ++key)
            for (int64_t d = 0; d < k.D; ++d) {
              double x = k.row(b, h, key)[d];
              mean[base + d] += x / double(end - j * s.block);
              lo[base + d] = std::min(lo[base + d], x);
              hi[base + d] = std::max(hi[base + d], x);
            }
        }
  }
  idx.assign(size_t(q.B * hsel * q.S * s.topK), -1);
  for (int64_t b = 0; b < q.B; ++b)
    for (int64_t hs = 0; hs < hsel; ++hs)
      for (int64_t i = 0; i < q.S; ++i) {
        const int64_t L = lengths[size_t(b)], p = i + L - q.S;
        std::vector<double> score(size_t(blocks), 0.0);
        int64_t h0 = s.perQueryHead ? hs : hs * G, h1 = s.perQueryHead ? hs + 1 : h0 + G;
        for (int64_t h = h0; h < h1; ++h) {
          const double *qi = q.row(b, h, i);
          const int64_t hk = h / G;
          std::vector<double> pc;
          if (prob)
            pc = compressedProbs(qi, kc, b, hk, p, L, s.compression, scale);
          for (int64_t j = 0; j < blocks; ++j) {
            double x = 0;
            size_t base = size_t(((b * k.H + hk) * blocks + j) * k.D);
            switch (s.method) {
            case ScoreMethod::SoftmaxProb:
              for (int64_t t = 0; t < kc.S; ++t)
                x += double(overlap(s.compression, s.block, t, j)) * pc[size_t(t)];
              break;
            case ScoreMethod::SoftmaxProbMax:
              for (int64_t t = 0; t < kc.S; ++t)
                if (overlap(s.compression, s.block, t, j) > 0)
                  x = std::max(x, pc[size_t(t)]);
              break;
            case ScoreMethod::MeanKey:
              x = dot(qi, &mean[base], k.D);
              break;
            case ScoreMethod::KeyBound:
              for (int64_t d = 0; d < k.D; ++d)
                x += std::max(qi[d] * lo[base + d], qi[d] * hi[base + d]);
              break;
            }
            score[size_t(j)] += x;
          }
        }
        rankScores(score, s, p, L);
        pick(score, s, &idx[size_t(((b * hsel + hs) * q.S + i) * s.topK)]);
        if (ranked)
          ranked->insert(ranked->end(), score.begin(), score.end());
      }
  if (compressedKeys)
    *compressedKeys = std::move(kc);
  return "";
}

Tensor idxTensor(const std::vector<int32_t> &idx, int64_t B, int64_t hsel,
                 int64_t sq, int64_t topK) {
  Tensor t = Tensor::zeros(DType::I32, {B, hsel, sq, topK});
  for (size_t i = 0; i < idx.size(); ++i)
    t.set(i, idx[i]);
  return t;
}

std::string checkHeads(const Bhsd &q, const Bhsd &k, const Bhsd &v) {
  if (k.B != q.B || v.B != q.B || k.H != v.H || k.S != v.S || k.D != q.D ||
      k.H == 0 || q.H % k.H != 0)
    return "q [" + std::to_string(q.B) + ", " + std::to_string(q.H) + ", " +
           std::to_string(q.S) + ", " + std::to_string(q.D) + "], k and v do not " +
           "form a (grouped-query) attention";
  return "";
}

/// Block-sparse or dense causal attention, bottom-right, through the
/// dense reference.
std::string attend(const Tensor &q, const Tensor &k, const Tensor &v,
                   std::optional<double> scale, const Tensor *idx, int64_t block,
                   std::optional<std::pair<int64_t, int64_t>> window, Tensor &out,
                   const Tensor *kvLengths = nullptr) {
  AttentionParams p;
  p.scale = scale;
  p.causal = true;
  p.bottomRight = true;
  p.window = window;
  if (idx)
    p.blocks = std::make_pair(int64_t(1), block);
  Tensor lse;
  return referenceAttention(q, k, v, nullptr, kvLengths, nullptr, idx, p, out, lse);
}
} // namespace

const char *poolName(Pool p) {
  switch (p) {
  case Pool::Mean: return "mean";
  case Pool::Max: return "max";
  case Pool::Weighted: return "weighted";
  }
  return "?";
}

std::string Compression::validate() const {
  if (block < 1 || stride < 1 || block % stride != 0)
    return "compression needs a block l >= 1 and a stride d >= 1 that divides "
           "it, got l = " + std::to_string(block) + ", d = " + std::to_string(stride);
  if (pool == Pool::Weighted && int64_t(weights.size()) != block)
    return "weighted compression needs l = " + std::to_string(block) +
           " weights, got " + std::to_string(weights.size());
  return "";
}

std::string Selection::validate() const {
  if (block < 1 || topK < 1 || init < 0 || local < 0)
    return "selection needs block >= 1, top_k >= 1, init >= 0 and local >= 0";
  if (topK < init + local)
    return "top_k " + std::to_string(topK) + " must be at least init + local = " +
           std::to_string(init + local) + " (forced blocks count toward it)";
  if (method == ScoreMethod::SoftmaxProb || method == ScoreMethod::SoftmaxProbMax) {
    if (std::string e = compression.validate(); !e.empty())
      return e;
    if (block % compression.stride != 0)
      return "the compression stride " + std::to_string(compression.stride) +
             " must divide the selection block " + std::to_string(block);
  }
  return "";
}

std::string referenceCompress(const Tensor &k, const Compression &c, Tensor &out,
                              const Tensor *kvLengths) {
  return withoutExceptions("compress", [&]() -> std::string {
    Bhsd kk;
    if (std::string e = c.validate(); !e.empty())
      return e;
    if (std::string e = load(k, "k", kk); !e.empty())
      return e;
    std::vector<int64_t> lengths;
    if (std::string e = validKeyLengths(kvLengths, kk.B, kk.S, lengths); !e.empty())
      return e;
    Bhsd kc = compress(kk, c);
    for (int64_t b = 0; b < kc.B; ++b)
      for (int64_t h = 0; h < kc.H; ++h)
        for (int64_t t = c.tokens(lengths[size_t(b)]); t < kc.S; ++t)
          std::fill_n(kc.row(b, h, t), kc.D, 0.0);
    out = kc.tensor();
    return "";
  });
}

namespace {
/// Loads q and k and selects: the lists into `idx` and, when asked, the
/// ranked scores [B, Hsel, Sq, blocks] into `scores` and, with compressed
/// values, the attention over the compressed tokens into `output`.
std::string selectTensors(const Tensor &q, const Tensor &k, const Selection &s,
                          const Tensor *kvLengths, Tensor &idx, Tensor *scores,
                          const Tensor *values = nullptr, Tensor *output = nullptr,
                          const Tensor *compressedKeys = nullptr) {
  return withoutExceptions("select", [&]() -> std::string {
    Bhsd qq, kk, vv;
    if (std::string e = load(q, "q", qq); !e.empty())
      return e;
    if (std::string e = load(k, "k", kk); !e.empty())
      return e;
    if (std::string e = checkHeads(qq, kk, kk); !e.empty())
      return e;
    if (values)
      if (std::string e = loadCompressed(*values, "values", kk, s.compression, -1, "Dv", vv);
          !e.empty())
        return e;
    Bhsd given;
    if (compressedKeys)
      if (std::string e = loadCompressed(*compressedKeys, "compressed keys", kk,
                                         s.compression, kk.D, "D", given);
          !e.empty())
        return e;
    std::vector<int64_t> lengths;
    if (std::string e = validKeyLengths(kvLengths, qq.B, kk.S, lengths); !e.empty())
      return e;
    std::vector<int32_t> list;
    std::vector<double> ranked;
    int64_t hsel;
    Bhsd kc;
    if (std::string e = select(qq, kk, s, lengths, list, hsel, scores ? &ranked : nullptr,
                               values ? &kc : nullptr, compressedKeys ? &given : nullptr);
        !e.empty())
      return e;
    idx = idxTensor(list, qq.B, hsel, qq.S, s.topK);
    if (scores) {
      int64_t blocks = (kk.S + s.block - 1) / s.block;
      *scores = Tensor::zeros(DType::F64, {qq.B, hsel, qq.S, blocks});
      for (size_t i = 0; i < ranked.size(); ++i)
        scores->set(i, ranked[i]);
    }
    if (values) {
      const double scale = s.scale ? *s.scale : 1.0 / std::sqrt(double(qq.D));
      *output = compressedAttention(qq, kc, vv, lengths, s.compression, scale).tensor();
    }
    return "";
  });
}
} // namespace

std::string referenceSelect(const Tensor &q, const Tensor &k, const Selection &s,
                            Tensor &idx, const Tensor *kvLengths, const Tensor *values,
                            Tensor *output, const Tensor *compressedKeys) {
  return selectTensors(q, k, s, kvLengths, idx, nullptr, values, output, compressedKeys);
}

std::string referenceBlockScores(const Tensor &q, const Tensor &k, const Selection &s,
                                 Tensor &scores, const Tensor *kvLengths,
                                 const Tensor *compressedKeys) {
  Tensor idx;
  return selectTensors(q, k, s, kvLengths, idx, &scores, nullptr, nullptr, compressedKeys);
}

std::string referenceNsa(const Tensor &q, const Tensor &k, const Tensor &v,
                         const Tensor &gates, const NsaParams &p, Tensor &out,
                         Tensor &idx, const Tensor *selection, const Tensor *kvLengths,
                         const Tensor *compressedKeys, const Tensor *compressedValues) {
  return withoutExceptions("nsa", [&]() -> std::string {
    Bhsd qq, kk, vv;
    std::string e = load(q, "q", qq);
    if (e.empty())
      e = load(k, "k", kk);
    if (e.empty())
      e = load(v, "v", vv);
    if (!e.empty())
      return e;
    if (std::string e = checkHeads(qq, kk, vv); !e.empty())
      return e;
    if (gates.shape != std::vector<int64_t>{qq.B, qq.H, qq.S, 3} || !isFloat(gates.dtype))
      return "gates: expected float [B, Hq, Sq, 3] = " +
             shapeString({qq.B, qq.H, qq.S, 3}) + ", got " + shapeString(gates.shape);
    if (p.window < 1)
      return "the NSA window must hold at least the query's own key, got " +
             std::to_string(p.window);
    // Compressed branch.
    const Compression &c = p.compression;
    if (std::string e = c.validate(); !e.empty())
      return e;
    std::vector<int64_t> lengths;
    if (std::string e = validKeyLengths(kvLengths, qq.B, kk.S, lengths); !e.empty())
      return e;
    Bhsd kc, vc;
    if (bool(compressedKeys) != bool(compressedValues))
      return "compressed keys and values come together";
    if (compressedKeys) {
      if (std::string e =
              loadCompressed(*compressedKeys, "compressed keys", kk, c, kk.D, "D", kc);
          !e.empty())
        return e;
      if (std::string e =
              loadCompressed(*compressedValues, "compressed values", kk, c, vv.D, "Dv", vc);
          !e.empty())
        return e;
    } else {
      kc = compress(kk, c), vc = compress(vv, c);
    }
    const double scale = p.scale ? *p.scale : 1.0 / std::sqrt(double(qq.D));
    // Selected and window branches.
    Selection s = p.selection;
    s.scale = p.scale;
    s.compression = c;
    s.method = ScoreMethod::SoftmaxProb;
    s.perQueryHead = false;
    if (selection) {
      idx = *selection;
    } else {
      std::vector<int32_t> list;
      int64_t hsel;
      if (std::string e = select(qq, kk, s, lengths, list, hsel, nullptr, nullptr, &kc);
          !e.empty())
        return e;
      idx = idxTensor(list, qq.B, hsel, qq.S, s.topK);
    }
    Tensor selected, window;
    if (std::string e =
            attend(q, k, v, p.scale, &idx, s.block, std::nullopt, selected, kvLengths);
        !e.empty())
      return e;
    if (std::string e = attend(q, k, v, p.scale, nullptr, 0,
                               std::make_pair(p.window - 1, int64_t(0)), window, kvLengths);
        !e.empty())
      return e;
    Bhsd cmp = compressedAttention(qq, kc, vc, lengths, c, scale);
    out = Tensor::zeros(DType::F64, {qq.B, qq.H, qq.S, vv.D});
    for (size_t o = 0; o < cmp.x.size(); ++o) {
      size_t g = o / size_t(vv.D) * 3;
      out.set(o, gates.get(g) * cmp.x[o] + gates.get(g + 1) * selected.get(o) +
                     gates.get(g + 2) * window.get(o));
    }
    return "";
  });
}

std::string referenceMoba(const Tensor &q, const Tensor &k, const Tensor &v,
                          int64_t block, int64_t topK, std::optional<double> scale,
                          Tensor &out, Tensor &idx, const Tensor *selection,
                          const Tensor *kvLengths) {
  Selection s;
  s.method = ScoreMethod::MeanKey;
  s.block = block;
  s.topK = topK;
  s.init = 0;
  s.local = 1;
  s.perQueryHead = true;
  if (selection)
    idx = *selection;
  else if (std::string e = referenceSelect(q, k, s, idx, kvLengths); !e.empty())
    return e;
  return attend(q, k, v, scale, &idx, block, std::nullopt, out, kvLengths);
}

std::string referenceInfLlmV2(const Tensor &q, const Tensor &k, const Tensor &v,
                              const InfLlmV2Params &p, Tensor &out, Tensor &idx,
                              const Tensor *selection, const Tensor *kvLengths) {
  if (k.rank() != 4 || q.rank() != 4)
    return "q and k: expected [B, H, S, D], got " + shapeString(q.shape) + " and " +
           shapeString(k.shape);
  std::vector<int64_t> lengths;
  if (std::string e = validKeyLengths(kvLengths, k.shape[0], k.shape[2], lengths); !e.empty())
    return e;
  // Each batch element's side, from its valid key length.
  std::vector<bool> dense(lengths.size());
  bool anyDense = false, anySparse = false;
  for (size_t b = 0; b < lengths.size(); ++b) {
    dense[b] = lengths[b] < p.denseLen;
    (dense[b] ? anyDense : anySparse) = true;
  }
  idx = Tensor();
  Tensor denseOut;
  if (anyDense)
    if (std::string e =
            attend(q, k, v, p.scale, nullptr, 0, std::nullopt, denseOut, kvLengths);
        !e.empty())
      return e;
  if (!anySparse) {
    out = std::move(denseOut);
    return "";
  }
  Selection s = p.selection;
  s.method = ScoreMethod::SoftmaxProbMax;
  s.perQueryHead = false;
  s.scale = p.scale;
  if (selection)
    idx = *selection;
  else if (std::string e = referenceSelect(q, k, s, idx, kvLengths); !e.empty())
    return e;
  if (std::string e = attend(q, k, v, p.scale, &idx, s.block, std::nullopt, out, kvLengths);
      !e.empty())
    return e;
  // Dense elements: the dense output and a list of -1.
  size_t outRow = out.numel() / lengths.size(), idxRow = idx.numel() / lengths.size();
  for (size_t b = 0; b < lengths.size(); ++b)
    if (dense[b]) {
      for (size_t i = b * outRow; i < (b + 1) * outRow; ++i)
        out.set(i, denseOut.get(i));
      for (size_t i = b * idxRow; i < (b + 1) * idxRow; ++i)
        idx.set(i, -1);
    }
  return "";
}

} // namespace attn::rt
