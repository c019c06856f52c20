//===- RuntimeUnitTest.cpp - attn-runtime-unit ----------------------------===//
//
// Unit tests of the runtime core: fp16/bf16 conversion, .npy and JSON files,
// the float64 reference against results worked out by hand, and the merge.
// Prints one line per failed check, "N passed, N failed" over the tests, and
// exits nonzero on any failure.
//
//===----------------------------------------------------------------------===//

#include "runtime/reference/Compare.h"
#include "runtime/Json.h"
#include "runtime/Npy.h"
#include "runtime/reference/Reference.h"
#include "runtime/Tensor.h"
#include "runtime/unittests/UnitTest.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

using namespace attn::rt;
using namespace attn::test;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
#define CHECK_NEAR(a, b)                                                       \
  check(std::fabs((a) - (b)) <= 1e-12 * (1 + std::fabs(b)),                    \
        #a " = " + std::to_string(a) + ", expected " + std::to_string(b),      \
        __LINE__)
#define CHECK_OK(expr)                                                         \
  do {                                                                         \
    std::string e_ = (expr);                                                   \
    check(e_.empty(), #expr " failed: " + e_, __LINE__);                       \
  } while (0)

Tensor f64(std::vector<int64_t> shape, const std::vector<double> &values) {
  return Tensor::fromValues(DType::F64, std::move(shape), values);
}


std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

//===-- fp16 / bf16 -------------------------------------------------------===//

void halfAndBFloat16RoundTrip() {
  // Every non-NaN bit pattern decodes and re-encodes to itself.
  int bad16 = 0, badBf = 0;
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    double h = decodeHalf(uint16_t(bits)), b = decodeBFloat16(uint16_t(bits));
    if (std::isnan(h) ? !std::isnan(decodeHalf(encodeHalf(h)))
                      : encodeHalf(h) != bits)
      ++bad16;
    if (std::isnan(b) ? !std::isnan(decodeBFloat16(encodeBFloat16(b)))
                      : encodeBFloat16(b) != bits)
      ++badBf;
  }
  CHECK(bad16 == 0);
  CHECK(badBf == 0);
  CHECK(decodeHalf(0x3C00) == 1.0);
  CHECK(decodeHalf(0x0001) == std::ldexp(1.0, -24)); // smallest subnormal
  CHECK(decodeHalf(0x7BFF) == 65504.0);
  CHECK(decodeHalf(0xFC00) == -kInf);
  CHECK(std::isnan(decodeHalf(0x7E00)));
  CHECK(decodeBFloat16(0x3F80) == 1.0);
  CHECK(decodeBFloat16(0x0001) == std::ldexp(1.0, -133));
}

void halfRounding() {
  const double ulp1 = std::ldexp(1.0, -10); // fp16 spacing just above 1
  CHECK(encodeHalf(1 + ulp1 / 2) == 0x3C00);     // tie -> even (down)
  CHECK(encodeHalf(1 + 3 * ulp1 / 2) == 0x3C02); // tie -> even (up)
  CHECK(encodeHalf(1 + ulp1 / 2 + 1e-9) == 0x3C01);
  CHECK(encodeHalf(65519.0) == 0x7BFF);
  CHECK(encodeHalf(65520.0) == 0x7C00); // rounds to infinity
  CHECK(encodeHalf(-1e6) == 0xFC00);
  CHECK(encodeHalf(std::ldexp(1.0, -25)) == 0x0000);     // tie -> even 0
  CHECK(encodeHalf(std::ldexp(3.0, -26)) == 0x0001);     // above the tie
  CHECK(encodeHalf(std::ldexp(3.0, -25)) == 0x0002);     // tie -> even
  CHECK(encodeHalf(std::ldexp(1.0, -14) - std::ldexp(1.0, -25)) == 0x0400);
  CHECK(encodeHalf(-0.0) == 0x8000);
  CHECK(encodeHalf(kInf) == 0x7C00);
  CHECK((encodeHalf(std::nan("")) & 0x7C00) == 0x7C00 &&
        (encodeHalf(std::nan("")) & 0x03FF) != 0);
  const double ulpB = std::ldexp(1.0, -7);
  CHECK(encodeBFloat16(1 + ulpB / 2) == 0x3F80);
  CHECK(encodeBFloat16(1 + 3 * ulpB / 2) == 0x3F82);
  CHECK(encodeBFloat16(3.4e38) == 0x7F80); // past the largest bf16
  CHECK(encodeBFloat16(std::ldexp(1.0, -134)) == 0x0000);
  CHECK(encodeBFloat16(std::ldexp(3.0, -135)) == 0x0001);

  Tensor t = Tensor::zeros(DType::F16, {2});
  t.set(0, 0.1);
  CHECK(t.get(0) == 0.0999755859375);
  Tensor b = cast(f64({2}, {0.1, -3.0}), DType::BF16);
  CHECK(b.get(0) == 0.10009765625 && b.get(1) == -3.0);
}

//===-- .npy --------------------------------------------------------------===//

void npyRoundTrip() {
  std::vector<double> values = {0, 1, -2.5, 3, 65504, -0.125};
  for (DType d : {DType::F16, DType::F32, DType::F64, DType::Bool, DType::I32,
                  DType::I64}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{2, 3}, {6}, {1, 2, 1, 3}}) {
      Tensor t = Tensor::fromValues(d, shape, values);
      std::string path = scratch() + "/t.npy";
      CHECK_OK(writeNpy(path, t));
      Tensor r;
      CHECK_OK(readNpy(path, r));
      check(r.dtype == d && r.shape == shape && r.bytes == t.bytes,
            std::string("round trip of ") + dtypeName(d) + " " +
                shapeString(shape),
            __LINE__);
      std::string file = readFile(path);
      CHECK(file.size() > 10 && (10 + (uint8_t(file[8]) | uint8_t(file[9]) << 8)) % 64 == 0);
    }
  }
  Tensor scalar = Tensor::fromValues(DType::F32, {}, {7});
  Tensor r;
  CHECK_OK(writeNpy(scratch() + "/s.npy", scalar));
  CHECK_OK(readNpy(scratch() + "/s.npy", r));
  CHECK(r.shape.empty() && r.get(0) == 7);
  std::string e = writeNpy(scratch() + "/b.npy", Tensor::zeros(DType::BF16, {2}));
  CHECK(contains(e, "bfloat16") && contains(e, "b.npy"));
}

void npyErrors() {
  std::string good = scratch() + "/good.npy";
  CHECK_OK(writeNpy(good, Tensor::fromValues(DType::F32, {4}, {1, 2, 3, 4})));
  std::string bytes = readFile(good);
  auto errorFor = [&](const std::string &name, const std::string &content) {
    std::string path = scratch() + "/" + name;
    writeFile(path, content);
    Tensor t;
    std::string e = readNpy(path, t);
    check(contains(e, path), name + " error names the file: " + e, __LINE__);
    check(e.find('\n') == std::string::npos, "one line: " + e, __LINE__);
    return e;
  };
  std::string truncated = errorFor("truncated.npy", bytes.substr(0, bytes.size() - 3));
  std::string magic = errorFor("magic.npy", "\x93NUMPZ" + bytes.substr(6));
  std::string fortran = bytes;
  fortran.replace(fortran.find("False"), 5, "True ");
  std::string fortranError = errorFor("fortran.npy", fortran);
  std::string dtype = bytes;
  dtype.replace(dtype.find("<f4"), 3, ">f4");
  std::string dtypeError = errorFor("dtype.npy", dtype);
  std::string extra = errorFor("extra.npy", bytes + "xxxx");
  CHECK(contains(truncated, "truncated"));
  CHECK(contains(magic, "magic"));
  CHECK(contains(fortranError, "fortran_order"));
  CHECK(contains(dtypeError, ">f4"));
  CHECK(contains(extra, "size mismatch"));
  Tensor t;
  CHECK(contains(readNpy(scratch() + "/absent.npy", t), "cannot open"));
}

//===-- JSON --------------------------------------------------------------===//

void jsonParseAndWrite() {
  Json j;
  CHECK_OK(parseJson(R"({"name": "k\"1\u00e9\n", "n": -12, "x": 2.5e-1,
      "list": [true, false, null, [], {}], "big": 9007199254740993})",
                     j));
  CHECK(j.isObject());
  CHECK(j.get("name") && j.get("name")->asString() == "k\"1\xc3\xa9\n");
  CHECK(j.get("n")->isInteger() && j.get("n")->asInt() == -12);
  CHECK(!j.get("x")->isInteger() && j.get("x")->asDouble() == 0.25);
  CHECK(j.get("big")->asInt() == 9007199254740993LL); // exact beyond 2^53
  CHECK(j.get("absent") == nullptr);
  CHECK(j.get("list")->elements().size() == 5 &&
        j.get("list")->elements()[0].asBool() &&
        j.get("list")->elements()[2].isNull());
  CHECK(j.items().size() == 5 && j.items()[0].first == "name");

  std::string text = writeJson(j);
  Json again;
  CHECK_OK(parseJson(text, again));
  CHECK(writeJson(again) == text);
  Json built = Json::object();
  built.set("third", Json::number(1.0 / 3));
  built.set("ints", Json::array({Json::integer(1), Json::integer(2)}));
  CHECK(writeJson(built) ==
        "{\n  \"third\": 0.3333333333333333,\n  \"ints\": [\n    1,\n    2\n  ]\n}\n");
}

void jsonErrors() {
  Json j;
  CHECK(parseJson("{\n  \"a\": 1,\n  \"b\" 2\n}", j) ==
        "line 3, column 7: expected ':' after the key \"b\"");
  CHECK(contains(parseJson("[1, 2,]", j), "line 1, column 7"));
  CHECK(contains(parseJson("\"abc", j), "unterminated string"));
  CHECK(contains(parseJson("{} x", j), "unexpected text"));
  CHECK(contains(parseJson("01", j), "unexpected text"));
  CHECK(contains(parseJson("\"\\q\"", j), "invalid escape"));
  CHECK(contains(parseJson(std::string(1000, '['), j), "nesting"));
  CHECK(contains(readJsonFile(scratch() + "/none.json", j), "none.json"));
}

//===-- Reference ---------------------------------------------------------===//

// Runs the reference and returns its error; out/lse as results.
std::string attend(const Tensor &q, const Tensor &k, const Tensor &v,
                   const AttentionParams &p, Tensor &out, Tensor &lse,
                   const Tensor *mask = nullptr,
                   const Tensor *kvLengths = nullptr) {
  return referenceAttention(q, k, v, mask, kvLengths, nullptr, p, out, lse);
}

void softmaxByHand() {
  // Scores row 0: q=ln3 times keys (0, 1) = (0, ln 3) -> p = (1/4, 3/4);
  // row 1: q=0 -> p = (1/2, 1/2). Values (2, 6).
  Tensor q = f64({1, 1, 2, 1}, {std::log(3.0), 0});
  Tensor k = f64({1, 1, 2, 1}, {0, 1});
  Tensor v = f64({1, 1, 2, 1}, {2, 6});
  AttentionParams p;
  p.scale = 1.0;
  Tensor out, lse, qk;
  CHECK_OK(referenceAttention(q, k, v, nullptr, nullptr, nullptr, p, out, lse, 3, &qk));
  CHECK_NEAR(out.get(0), 0.25 * 2 + 0.75 * 6);
  CHECK_NEAR(out.get(1), 4.0);
  CHECK_NEAR(lse.get(0), std::log(4.0));
  CHECK_NEAR(lse.get(1), std::log(2.0));
  CHECK_NEAR(qk.get(1), 0.75);
  // The default scale is 1/sqrt(D): D = 4 halves the scores.
  Tensor q4 = f64({1, 1, 1, 4}, {2, 0, 0, 0}), k4 = f64({1, 1, 2, 4}, {0, 0, 0, 0, 1, 0, 0, 0});
  Tensor v4 = f64({1, 1, 2, 1}, {0, 1});
  CHECK_OK(attend(q4, k4, v4, AttentionParams(), out, lse));
  CHECK_NEAR(out.get(0), std::exp(1.0) / (1 + std::exp(1.0)));
  // Softcap 1: scores (0, 2) become (0, tanh 2); mode 0 returns them.
  p.softcap = 1.0;
  Tensor q1 = f64({1, 1, 1, 1}, {2}), k2 = f64({1, 1, 2, 1}, {0, 1});
  CHECK_OK(referenceAttention(q1, k2, v4, nullptr, nullptr, nullptr, p, out, lse, 0, &qk));
  CHECK_NEAR(qk.get(1), std::tanh(2.0));
  CHECK_NEAR(out.get(0), std::exp(std::tanh(2.0)) / (1 + std::exp(std::tanh(2.0))));
  p.softcap = -1.0;
  CHECK(contains(attend(q1, k2, v4, p, out, lse), "softcap"));
}

void gqaHeadMapping() {
  // Hq = 4, Hkv = 2, one key: each query head returns its key head's value,
  // heads 0,1 -> key head 0 and heads 2,3 -> key head 1.
  Tensor q = f64({1, 4, 1, 1}, {1, 2, 3, 4});
  Tensor k = f64({1, 2, 1, 1}, {1, 1});
  Tensor v = f64({1, 2, 1, 1}, {10, 20});
  Tensor out, lse;
  CHECK_OK(attend(q, k, v, AttentionParams(), out, lse));
  CHECK(out.get(0) == 10 && out.get(1) == 10 && out.get(2) == 20 &&
        out.get(3) == 20);
  // The same through the packed and BSHD layouts.
  AttentionParams p;
  p.layout = Layout::Packed, p.numQHeads = 4, p.numKvHeads = 2;
  CHECK_OK(attend(f64({1, 1, 4}, {1, 2, 3, 4}), f64({1, 1, 2}, {1, 1}),
                  f64({1, 1, 2}, {10, 20}), p, out, lse));
  CHECK(out.shape == (std::vector<int64_t>{1, 1, 4}) && out.get(1) == 10 &&
        out.get(2) == 20);
  Tensor bad = f64({1, 3, 1, 1}, {1, 2, 3});
  std::string e = attend(bad, k, v, AttentionParams(), out, lse);
  CHECK(contains(e, "[1, 3, 1, 1]") && contains(e, "[1, 2, 1, 1]"));
  e = attend(f64({1, 1, 1, 2}, {1, 1}), k, v, AttentionParams(), out, lse);
  CHECK(contains(e, "head dim") && contains(e, "[1, 1, 1, 2]"));
}

void fullyMaskedRow() {
  Tensor q = f64({1, 1, 2, 1}, {1, 2}), k = f64({1, 1, 2, 1}, {1, -1});
  Tensor v = f64({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor mask = Tensor::fromValues(DType::Bool, {2, 2}, {0, 0, 1, 1});
  AttentionParams p;
  p.softcap = 0.5; // softcap must not turn a masked -inf into a finite score
  Tensor out, lse, qk;
  CHECK_OK(referenceAttention(q, k, v, &mask, nullptr, nullptr, p, out, lse, 3, &qk));
  CHECK(out.get(0) == 0 && out.get(1) == 0);
  CHECK(lse.get(0) == -kInf);
  CHECK(qk.get(0) == 0 && qk.get(1) == 0);
  CHECK(std::isfinite(lse.get(1)) && std::isfinite(out.get(2)));
  // A float mask of -inf masks too.
  Tensor fmask = f64({2}, {-kInf, -kInf});
  CHECK_OK(attend(q, k, v, p, out, lse, &fmask));
  CHECK(out.get(3) == 0 && lse.get(1) == -kInf);
  CHECK_OK(referenceAttention(q, k, v, &mask, nullptr, nullptr, p, out, lse, 2, &qk));
  CHECK(qk.get(0) == -kInf && std::isfinite(qk.get(2)));
}

void causalBottomRightShortKeys() {
  // Sq = 3, Skv = 3, valid keys L = 1: off = L - Sq = -2, so rows 0 and 1 see
  // nothing and row 2 (absolute position 0) sees key 0 only.
  Tensor q = f64({1, 1, 3, 1}, {1, 1, 1}), k = f64({1, 1, 3, 1}, {1, 2, 3});
  Tensor v = f64({1, 1, 3, 1}, {5, 6, 7});
  Tensor len = Tensor::fromValues(DType::I64, {1}, {1});
  AttentionParams p;
  p.causal = true, p.bottomRight = true, p.scale = 1.0;
  Tensor out, lse;
  CHECK_OK(attend(q, k, v, p, out, lse, nullptr, &len));
  CHECK(out.get(0) == 0 && out.get(1) == 0 && out.get(2) == 5);
  CHECK(lse.get(0) == -kInf && lse.get(1) == -kInf);
  CHECK_NEAR(lse.get(2), 1.0);
  // Without lengths, bottom-right with Skv = 5 > Sq = 3 gives off = 2.
  CHECK(p.offset(3, 5) == 2);
  CHECK(p.visible(2, 2) && !p.visible(2, 3));
  p.bottomRight = false;
  CHECK(p.offset(3, 5) == 0 && !p.visible(0, 1));
  // Valid lengths mask keys without any causal mask: keys 0, 1 of 3.
  Tensor two = Tensor::fromValues(DType::I32, {1}, {2});
  CHECK_OK(attend(Tensor::zeros(DType::F64, {1, 1, 1, 1}), k, v,
                  AttentionParams(), out, lse, nullptr, &two));
  CHECK_NEAR(out.get(0), 5.5);
  Tensor tooLong = Tensor::fromValues(DType::I64, {1}, {4});
  CHECK(contains(attend(q, k, v, p, out, lse, nullptr, &tooLong), "kv_lengths"));
}

// Uniform scores (q = 0): each row's output is the mean of the visible
// values, here the key positions themselves.
std::vector<double> meanOfVisible(const AttentionParams &p, int64_t s,
                                  const Tensor *mask = nullptr,
                                  int64_t skv = -1) {
  if (skv < 0)
    skv = s;
  std::vector<double> positions;
  for (int64_t j = 0; j < skv; ++j)
    positions.push_back(double(j));
  Tensor q = Tensor::zeros(DType::F64, {1, 1, s, 1});
  Tensor kv = f64({1, 1, skv, 1}, positions);
  Tensor out, lse;
  std::string e = attend(q, kv, kv, p, out, lse, mask);
  check(e.empty(), e, __LINE__);
  std::vector<double> means;
  for (int64_t i = 0; i < s && e.empty(); ++i)
    means.push_back(out.get(size_t(i)));
  return means;
}

bool near(const std::vector<double> &a, const std::vector<double> &b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::fabs(a[i] - b[i]) > 1e-12)
      return false;
  return true;
}

void windowBothSides() {
  AttentionParams p;
  p.window = std::make_pair(int64_t(1), int64_t(1));
  // Row i sees keys i-1 .. i+1.
  CHECK(near(meanOfVisible(p, 5), {0.5, 1, 2, 3, 3.5}));
  p.window = std::make_pair(int64_t(2), int64_t(0));
  CHECK(near(meanOfVisible(p, 4), {0, 0.5, 1, 2}));
  p.window = std::make_pair(int64_t(-1), int64_t(1));
  CHECK(near(meanOfVisible(p, 3), {0.5, 1, 1}));
  p.window = std::make_pair(int64_t(-2), int64_t(0));
  Tensor one = f64({1, 1, 1, 1}, {0}), out, lse;
  CHECK(contains(attend(one, one, one, p, out, lse), "window"));
}

void parallelBranches() {
  // P = 2, N = 2: rows 0..2 are causal; row 3 sees {0, 1, 3}, row 4 sees
  // {0, 1, 2, 4}, row 5 sees {0, 1, 3, 5}.
  AttentionParams p;
  p.branches = std::make_pair(int64_t(2), int64_t(2));
  CHECK(near(meanOfVisible(p, 6), {0, 0.5, 1, 4.0 / 3, 7.0 / 4, 9.0 / 4}));
  CHECK(!p.visible(4, 3) && p.visible(4, 2) && !p.visible(2, 3));
}

void shortMask() {
  // A [1, 2] mask over 3 keys leaves key 2 masked: mean(0, 1).
  Tensor mask = f64({1, 2}, {0, 0});
  CHECK(near(meanOfVisible(AttentionParams(), 1, &mask, 3), {0.5}));
  // A float bias shifts the weights: scores (0, ln 3) -> (1/4, 3/4).
  Tensor bias = f64({1, 2}, {0, std::log(3.0)});
  CHECK(near(meanOfVisible(AttentionParams(), 1, &bias, 2), {0.75}));
  Tensor wide = f64({1, 4}, {0, 0, 0, 0});
  Tensor out, lse;
  CHECK(contains(attend(f64({1, 1, 1, 1}, {0}), f64({1, 1, 3, 1}, {0, 0, 0}),
                        f64({1, 1, 3, 1}, {0, 0, 0}), AttentionParams(), out,
                        lse, &wide),
                 "more keys"));
}

void mergeEqualsUnion() {
  // Keys 0..4 split into {0, 1} and {2, 3, 4}.
  std::vector<double> qv = {0.3, -1.2, 0.7, 0.1, 2.0, -0.4};
  std::vector<double> kvals = {0.5, -0.3, 1.1, 0.2, -0.7, 0.9, 0.4, -1.5, 0.0, 0.8};
  std::vector<double> vvals = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  Tensor q = f64({1, 1, 3, 2}, qv);
  auto keys = [&](const std::vector<double> &all, int64_t from, int64_t to) {
    return f64({1, 1, to - from, 2},
               std::vector<double>(all.begin() + from * 2, all.begin() + to * 2));
  };
  AttentionParams p;
  Tensor outAll, lseAll, outA, lseA, outB, lseB, out, lse;
  CHECK_OK(attend(q, keys(kvals, 0, 5), keys(vvals, 0, 5), p, outAll, lseAll));
  CHECK_OK(attend(q, keys(kvals, 0, 2), keys(vvals, 0, 2), p, outA, lseA));
  CHECK_OK(attend(q, keys(kvals, 2, 5), keys(vvals, 2, 5), p, outB, lseB));
  CHECK_OK(referenceMerge({outA, outB}, {lseA, lseB}, out, lse));
  CHECK(compareTensors(out, outAll, {1e-14, 1e-14}).problem.empty());
  CHECK(compareTensors(lse, lseAll, {1e-14, 1e-14}).problem.empty());
  CHECK(compareTensors(out, outA, {1e-3, 1e-3}).problem != "");
  Tensor badLse = f64({1, 1, 2}, {0, 0});
  CHECK(contains(referenceMerge({outA, outB}, {lseA, badLse}, out, lse),
                 "partial 1"));
}

void mergeAllEmpty() {
  Tensor o = f64({1, 1, 2, 1}, {0, 3});
  Tensor empty = f64({1, 1, 2}, {-kInf, -kInf});
  Tensor mixed = f64({1, 1, 2}, {-kInf, 0.5});
  Tensor out, lse;
  CHECK_OK(referenceMerge({o, o}, {empty, empty}, out, lse));
  CHECK(out.get(0) == 0 && out.get(1) == 0 && lse.get(0) == -kInf &&
        lse.get(1) == -kInf);
  // An empty partial contributes nothing to a non-empty row.
  CHECK_OK(referenceMerge({o, o}, {empty, mixed}, out, lse));
  CHECK(out.get(1) == 3 && lse.get(1) == 0.5 && lse.get(0) == -kInf);
}

void compareRules() {
  Tensor ref = f64({3}, {-kInf, 1, 2});
  CHECK(compareTensors(f64({3}, {-kInf, 1, 2}), ref, {1e-5, 1e-4}).problem.empty());
  CHECK(!compareTensors(f64({3}, {0, 1, 2}), ref, {1e-5, 1e-4}).problem.empty());
  CHECK(!compareTensors(f64({3}, {-kInf, std::nan(""), 2}), ref, {1e-5, 1e-4})
             .problem.empty());
  CHECK(!compareTensors(f64({2}, {1, 2}), ref, {1e-5, 1e-4}).problem.empty());
  Tensor zero = f64({2}, {0, 0});
  CHECK(compareTensors(zero, zero, {1e-5, 1e-4}).problem.empty());
  CHECK(!compareTensors(f64({2}, {0, 1e-3}), zero, {1e-5, 1e-4}).problem.empty());
  CHECK(toleranceFor(DType::F32).rel == 1e-5 && toleranceFor(DType::F16).rel == 2e-3);
}

} // namespace

int main() {
  const TestList tests = {
      {"half-bf16-round-trip", halfAndBFloat16RoundTrip},
      {"half-bf16-rounding", halfRounding},
      {"npy-round-trip", npyRoundTrip},
      {"npy-errors", npyErrors},
      {"json-parse-write", jsonParseAndWrite},
      {"json-errors", jsonErrors},
      {"reference-softmax-by-hand", softmaxByHand},
      {"reference-gqa-heads", gqaHeadMapping},
      {"reference-fully-masked-row", fullyMaskedRow},
      {"reference-causal-bottom-right-short", causalBottomRightShortKeys},
      {"reference-window-both-sides", windowBothSides},
      {"reference-parallel-branches", parallelBranches},
      {"reference-short-mask", shortMask},
      {"merge-equals-union", mergeEqualsUnion},
      {"merge-all-empty", mergeAllEmpty},
      {"compare-rules", compareRules},
  };
  return runTests(tests);
}
