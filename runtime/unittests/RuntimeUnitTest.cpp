//===- RuntimeUnitTest.cpp - attn-runtime-unit ----------------------------===//
//
// GoogleTest unit tests of the runtime core: fp16/bf16 conversion, reading
// files (limits, directories, devices), .npy and JSON files, ONNX case
// folders, the float64 reference against results worked out by hand, and
// the merge. Run by lit (test/Runtime/unit.test).
//
//===----------------------------------------------------------------------===//

#include "runtime/Files.h"
#include "runtime/JsonFile.h"
#include "runtime/Npy.h"
#include "runtime/Tensor.h"
#include "runtime/reference/Compare.h"
#include "runtime/reference/OnnxCase.h"
#include "runtime/reference/Reference.h"
#include "runtime/unittests/TestFiles.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace attn::rt;
using namespace attn::test;

namespace {

const double kInf = std::numeric_limits<double>::infinity();
#define EXPECT_CLOSE(a, b) EXPECT_NEAR((a), (b), 1e-12 * (1 + std::fabs(b)))
#define EXPECT_OK(expr) EXPECT_EQ((expr), std::string())

Tensor f64(std::vector<int64_t> shape, const std::vector<double> &values) {
  return Tensor::fromValues(DType::F64, std::move(shape), values);
}

//===-- fp16 / bf16 -------------------------------------------------------===//

TEST(HalfBFloat16, RoundTrip) {
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
  EXPECT_TRUE(bad16 == 0);
  EXPECT_TRUE(badBf == 0);
  EXPECT_TRUE(decodeHalf(0x3C00) == 1.0);
  EXPECT_TRUE(decodeHalf(0x0001) == std::ldexp(1.0, -24)); // smallest subnormal
  EXPECT_TRUE(decodeHalf(0x7BFF) == 65504.0);
  EXPECT_TRUE(decodeHalf(0xFC00) == -kInf);
  EXPECT_TRUE(std::isnan(decodeHalf(0x7E00)));
  EXPECT_TRUE(decodeBFloat16(0x3F80) == 1.0);
  EXPECT_TRUE(decodeBFloat16(0x0001) == std::ldexp(1.0, -133));
}

TEST(HalfBFloat16, Rounding) {
  const double ulp1 = std::ldexp(1.0, -10); // fp16 spacing just above 1
  EXPECT_TRUE(encodeHalf(1 + ulp1 / 2) == 0x3C00);     // tie -> even (down)
  EXPECT_TRUE(encodeHalf(1 + 3 * ulp1 / 2) == 0x3C02); // tie -> even (up)
  EXPECT_TRUE(encodeHalf(1 + ulp1 / 2 + 1e-9) == 0x3C01);
  EXPECT_TRUE(encodeHalf(65519.0) == 0x7BFF);
  EXPECT_TRUE(encodeHalf(65520.0) == 0x7C00); // rounds to infinity
  EXPECT_TRUE(encodeHalf(-1e6) == 0xFC00);
  EXPECT_TRUE(encodeHalf(std::ldexp(1.0, -25)) == 0x0000);     // tie -> even 0
  EXPECT_TRUE(encodeHalf(std::ldexp(3.0, -26)) == 0x0001);     // above the tie
  EXPECT_TRUE(encodeHalf(std::ldexp(3.0, -25)) == 0x0002);     // tie -> even
  EXPECT_TRUE(encodeHalf(std::ldexp(1.0, -14) - std::ldexp(1.0, -25)) == 0x0400);
  EXPECT_TRUE(encodeHalf(-0.0) == 0x8000);
  EXPECT_TRUE(encodeHalf(kInf) == 0x7C00);
  EXPECT_TRUE((encodeHalf(std::nan("")) & 0x7C00) == 0x7C00 &&
        (encodeHalf(std::nan("")) & 0x03FF) != 0);
  const double ulpB = std::ldexp(1.0, -7);
  EXPECT_TRUE(encodeBFloat16(1 + ulpB / 2) == 0x3F80);
  EXPECT_TRUE(encodeBFloat16(1 + 3 * ulpB / 2) == 0x3F82);
  EXPECT_TRUE(encodeBFloat16(3.4e38) == 0x7F80); // past the largest bf16
  EXPECT_TRUE(encodeBFloat16(std::ldexp(1.0, -134)) == 0x0000);
  EXPECT_TRUE(encodeBFloat16(std::ldexp(3.0, -135)) == 0x0001);

  Tensor t = Tensor::zeros(DType::F16, {2});
  t.set(0, 0.1);
  EXPECT_TRUE(t.get(0) == 0.0999755859375);
  Tensor b = cast(f64({2}, {0.1, -3.0}), DType::BF16);
  EXPECT_TRUE(b.get(0) == 0.10009765625 && b.get(1) == -3.0);
}

//===-- .npy --------------------------------------------------------------===//

TEST(Npy, RoundTrip) {
  std::vector<double> values = {0, 1, -2.5, 3, 65504, -0.125};
  for (DType d : {DType::F16, DType::F32, DType::F64, DType::Bool, DType::I32,
                  DType::I64}) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{2, 3}, {6}, {1, 2, 1, 3}}) {
      Tensor t = Tensor::fromValues(d, shape, values);
      std::string path = scratch() + "/t.npy";
      EXPECT_OK(writeNpy(path, t));
      Tensor r;
      EXPECT_OK(readNpy(path, r));
      EXPECT_TRUE(r.dtype == d && r.shape == shape && r.bytes == t.bytes)
          << "round trip of " << dtypeName(d) << " " << shapeString(shape);
      std::string file = readFile(path);
      EXPECT_TRUE(file.size() > 10 && (10 + (uint8_t(file[8]) | uint8_t(file[9]) << 8)) % 64 == 0);
    }
  }
  Tensor scalar = Tensor::fromValues(DType::F32, {}, {7});
  Tensor r;
  EXPECT_OK(writeNpy(scratch() + "/s.npy", scalar));
  EXPECT_OK(readNpy(scratch() + "/s.npy", r));
  EXPECT_TRUE(r.shape.empty() && r.get(0) == 7);
  std::string e = writeNpy(scratch() + "/b.npy", Tensor::zeros(DType::BF16, {2}));
  EXPECT_TRUE(contains(e, "bfloat16") && contains(e, "b.npy"));
}

TEST(Npy, Errors) {
  std::string good = scratch() + "/good.npy";
  EXPECT_OK(writeNpy(good, Tensor::fromValues(DType::F32, {4}, {1, 2, 3, 4})));
  std::string bytes = readFile(good);
  auto errorFor = [&](const std::string &name, const std::string &content) {
    std::string path = scratch() + "/" + name;
    writeFile(path, content);
    Tensor t;
    std::string e = readNpy(path, t);
    EXPECT_TRUE(contains(e, path)) << name << ": the error names the file";
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
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
  EXPECT_TRUE(contains(truncated, "truncated"));
  EXPECT_TRUE(contains(magic, "magic"));
  EXPECT_TRUE(contains(fortranError, "fortran_order"));
  EXPECT_TRUE(contains(dtypeError, ">f4"));
  EXPECT_TRUE(contains(extra, "size mismatch"));
  Tensor t;
  EXPECT_TRUE(contains(readNpy(scratch() + "/absent.npy", t), "cannot open"));
}

// A bool array whose bytes are not 0/1 (NumPy writes them from a view of
// uint8 data) reads as NumPy sees it: any nonzero byte is true.
TEST(Npy, BoolBytesNormalized) {
  std::string path = scratch() + "/mask.npy";
  EXPECT_OK(writeNpy(path, Tensor::fromValues(DType::Bool, {3}, {1, 0, 1})));
  std::string bytes = readFile(path);
  ASSERT_GE(bytes.size(), 3u);
  bytes[bytes.size() - 3] = 2;          // true
  bytes[bytes.size() - 1] = char(0xff); // true
  writeFile(path, bytes);
  Tensor t;
  EXPECT_OK(readNpy(path, t));
  EXPECT_EQ(t.bytes, (std::vector<uint8_t>{1, 0, 1}));
  // The reference keeps keys 0 and 2 of values (4, 8, 12): out = 8.
  Tensor q = f64({1, 1, 1, 1}, {0}), k = f64({1, 1, 3, 1}, {0, 0, 0});
  Tensor v = f64({1, 1, 3, 1}, {4, 8, 12}), out, lse;
  EXPECT_OK(referenceAttention(q, k, v, &t, nullptr, nullptr, nullptr,
                               AttentionParams(), out, lse));
  EXPECT_CLOSE(out.get(0), 8.0);
}

//===-- Reading files -----------------------------------------------------===//

TEST(Files, ReadsRegularFiles) {
  std::string path = scratch() + "/bytes.bin";
  writeFile(path, std::string("a\0b", 3));
  std::string bytes;
  EXPECT_OK(readFileBytes(path, 3, bytes));
  EXPECT_EQ(bytes, std::string("a\0b", 3));
  std::string e = readFileBytes(scratch() + "/absent.bin", 10, bytes);
  EXPECT_TRUE(contains(e, "absent.bin: cannot open the file (No such file"));
}

TEST(Files, RefusesDirectoriesDevicesAndPipes) {
  std::string bytes;
  EXPECT_EQ(readFileBytes(scratch(), 100, bytes),
            scratch() + ": is a directory; pass the path of a file");
  // Read "forever" before: /dev/zero never ends.
  EXPECT_TRUE(contains(readFileBytes("/dev/zero", 100, bytes),
                       "/dev/zero: not a regular file"));
  std::string fifo = scratch() + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(contains(readFileBytes(fifo, 100, bytes), "not a regular file"));
}

TEST(Files, CapsTheSize) {
  std::string path = scratch() + "/big.bin";
  writeFile(path, std::string(101, 'x'));
  std::string bytes;
  EXPECT_EQ(readFileBytes(path, 100, bytes),
            path + ": 101 bytes, more than the 100 this kind of file may "
                   "have; is it the right file?");
  EXPECT_TRUE(bytes.empty());
}

// Every reader goes through readFileBytes: a directory or device is one
// line naming it, never a crash, a hang or an exception.
TEST(Files, EveryReaderRefusesDirectories) {
  Tensor t;
  EXPECT_TRUE(contains(readNpy(scratch(), t), ": is a directory"));
  EXPECT_TRUE(contains(readNpy("/dev/zero", t), "not a regular file"));
  Json j;
  EXPECT_TRUE(contains(readJsonFile(scratch(), j), ": is a directory"));
  std::string dir = scratch() + "/case_is_dir";
  std::filesystem::create_directories(dir + "/case.json");
  OnnxCase c;
  EXPECT_EQ(loadOnnxCase(dir, c),
            dir + "/case.json: is a directory; pass the path of a file");
  std::string op;
  EXPECT_TRUE(contains(readCaseOp(dir, op), "is a directory"));
}

//===-- JSON --------------------------------------------------------------===//

TEST(Json, ParseErrorsSayWhere) {
  Json j;
  EXPECT_OK(parseJson(R"({"n": -12, "big": 9007199254740993, "x": 0.25})", j));
  EXPECT_EQ(j["big"].get<int64_t>(), 9007199254740993LL); // exact past 2^53
  EXPECT_EQ(j.begin().key(), "n");                         // file order kept
  std::string e = parseJson("{\n  \"a\": 1,\n  \"b\" 2\n}", j);
  EXPECT_TRUE(contains(e, "line 3, column ")) << e;
  EXPECT_TRUE(contains(parseJson("[1, 2,]", j), "line 1, column 7"));
  EXPECT_TRUE(contains(parseJson("", j), "line 1, column 1"));
}

TEST(Json, WritesInvalidUtf8) {
  Json j = Json::object();
  j["log"] = std::string("ptxas \xff done");
  EXPECT_EQ(writeJson(j), "{\n  \"log\": \"ptxas \xef\xbf\xbd done\"\n}\n");
}

//===-- ONNX case folders -------------------------------------------------===//

TEST(OnnxCase, ReadsTheOp) {
  std::string dir = scratch() + "/nsa";
  std::filesystem::create_directories(dir);
  writeFile(dir + "/case.json", R"({"name": "s", "op": "NSA"})");
  std::string op;
  EXPECT_OK(readCaseOp(dir, op));
  EXPECT_EQ(op, "NSA");
  writeFile(dir + "/case.json", R"({"name": "s", "op": 3})");
  EXPECT_EQ(readCaseOp(dir, op), dir + "/case.json: needs a string 'op'");
  writeFile(dir + "/case.json", R"([1])");
  OnnxCase c;
  EXPECT_EQ(loadOnnxCase(dir, c), dir + ": case.json needs string 'name' and 'op'");
  writeFile(dir + "/case.json",
            R"({"name": "s", "op": "Attention", "inputs": [{"slot": "Q",
                "file": "Q.npy", "dtype": "float32", "shape": [-1]}]})");
  EXPECT_EQ(loadOnnxCase(dir, c),
            dir + ": slot 'Q': shape -1 entry is not a non-negative integer");
}

//===-- Reference ---------------------------------------------------------===//

// Runs the reference and returns its error; out/lse as results.
std::string attend(const Tensor &q, const Tensor &k, const Tensor &v,
                   const AttentionParams &p, Tensor &out, Tensor &lse,
                   const Tensor *mask = nullptr,
                   const Tensor *kvLengths = nullptr) {
  return referenceAttention(q, k, v, mask, kvLengths, nullptr, nullptr, p, out, lse);
}

TEST(Reference, SoftmaxByHand) {
  // Scores row 0: q=ln3 times keys (0, 1) = (0, ln 3) -> p = (1/4, 3/4);
  // row 1: q=0 -> p = (1/2, 1/2). Values (2, 6).
  Tensor q = f64({1, 1, 2, 1}, {std::log(3.0), 0});
  Tensor k = f64({1, 1, 2, 1}, {0, 1});
  Tensor v = f64({1, 1, 2, 1}, {2, 6});
  AttentionParams p;
  p.scale = 1.0;
  Tensor out, lse, qk;
  EXPECT_OK(referenceAttention(q, k, v, nullptr, nullptr, nullptr, nullptr, p, out, lse, 3, &qk));
  EXPECT_CLOSE(out.get(0), 0.25 * 2 + 0.75 * 6);
  EXPECT_CLOSE(out.get(1), 4.0);
  EXPECT_CLOSE(lse.get(0), std::log(4.0));
  EXPECT_CLOSE(lse.get(1), std::log(2.0));
  EXPECT_CLOSE(qk.get(1), 0.75);
  // The default scale is 1/sqrt(D): D = 4 halves the scores.
  Tensor q4 = f64({1, 1, 1, 4}, {2, 0, 0, 0}), k4 = f64({1, 1, 2, 4}, {0, 0, 0, 0, 1, 0, 0, 0});
  Tensor v4 = f64({1, 1, 2, 1}, {0, 1});
  EXPECT_OK(attend(q4, k4, v4, AttentionParams(), out, lse));
  EXPECT_CLOSE(out.get(0), std::exp(1.0) / (1 + std::exp(1.0)));
  // Softcap 1: scores (0, 2) become (0, tanh 2); mode 0 returns them.
  p.softcap = 1.0;
  Tensor q1 = f64({1, 1, 1, 1}, {2}), k2 = f64({1, 1, 2, 1}, {0, 1});
  EXPECT_OK(referenceAttention(q1, k2, v4, nullptr, nullptr, nullptr, nullptr, p, out, lse, 0, &qk));
  EXPECT_CLOSE(qk.get(1), std::tanh(2.0));
  EXPECT_CLOSE(out.get(0), std::exp(std::tanh(2.0)) / (1 + std::exp(std::tanh(2.0))));
  p.softcap = -1.0;
  EXPECT_TRUE(contains(attend(q1, k2, v4, p, out, lse), "softcap"));
}

TEST(Reference, GqaHeads) {
  // Hq = 4, Hkv = 2, one key: each query head returns its key head's value,
  // heads 0,1 -> key head 0 and heads 2,3 -> key head 1.
  Tensor q = f64({1, 4, 1, 1}, {1, 2, 3, 4});
  Tensor k = f64({1, 2, 1, 1}, {1, 1});
  Tensor v = f64({1, 2, 1, 1}, {10, 20});
  Tensor out, lse;
  EXPECT_OK(attend(q, k, v, AttentionParams(), out, lse));
  EXPECT_TRUE(out.get(0) == 10 && out.get(1) == 10 && out.get(2) == 20 &&
        out.get(3) == 20);
  // The same through the packed and BSHD layouts.
  AttentionParams p;
  p.layout = Layout::Packed, p.numQHeads = 4, p.numKvHeads = 2;
  EXPECT_OK(attend(f64({1, 1, 4}, {1, 2, 3, 4}), f64({1, 1, 2}, {1, 1}),
                  f64({1, 1, 2}, {10, 20}), p, out, lse));
  EXPECT_TRUE(out.shape == (std::vector<int64_t>{1, 1, 4}) && out.get(1) == 10 &&
        out.get(2) == 20);
  Tensor bad = f64({1, 3, 1, 1}, {1, 2, 3});
  std::string e = attend(bad, k, v, AttentionParams(), out, lse);
  EXPECT_TRUE(contains(e, "[1, 3, 1, 1]") && contains(e, "[1, 2, 1, 1]"));
  e = attend(f64({1, 1, 1, 2}, {1, 1}), k, v, AttentionParams(), out, lse);
  EXPECT_TRUE(contains(e, "head dim") && contains(e, "[1, 1, 1, 2]"));
}

TEST(Reference, FullyMaskedRow) {
  Tensor q = f64({1, 1, 2, 1}, {1, 2}), k = f64({1, 1, 2, 1}, {1, -1});
  Tensor v = f64({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor mask = Tensor::fromValues(DType::Bool, {2, 2}, {0, 0, 1, 1});
  AttentionParams p;
  p.softcap = 0.5; // softcap must not turn a masked -inf into a finite score
  Tensor out, lse, qk;
  EXPECT_OK(referenceAttention(q, k, v, &mask, nullptr, nullptr, nullptr, p, out, lse, 3, &qk));
  EXPECT_TRUE(out.get(0) == 0 && out.get(1) == 0);
  EXPECT_TRUE(lse.get(0) == -kInf);
  EXPECT_TRUE(qk.get(0) == 0 && qk.get(1) == 0);
  EXPECT_TRUE(std::isfinite(lse.get(1)) && std::isfinite(out.get(2)));
  // A float mask of -inf masks too.
  Tensor fmask = f64({2}, {-kInf, -kInf});
  EXPECT_OK(attend(q, k, v, p, out, lse, &fmask));
  EXPECT_TRUE(out.get(3) == 0 && lse.get(1) == -kInf);
  EXPECT_OK(referenceAttention(q, k, v, &mask, nullptr, nullptr, nullptr, p, out, lse, 2, &qk));
  EXPECT_TRUE(qk.get(0) == -kInf && std::isfinite(qk.get(2)));
}

TEST(Reference, CausalBottomRightShortKeys) {
  // Sq = 3, Skv = 3, valid keys L = 1: off = L - Sq = -2, so rows 0 and 1 see
  // nothing and row 2 (absolute position 0) sees key 0 only.
  Tensor q = f64({1, 1, 3, 1}, {1, 1, 1}), k = f64({1, 1, 3, 1}, {1, 2, 3});
  Tensor v = f64({1, 1, 3, 1}, {5, 6, 7});
  Tensor len = Tensor::fromValues(DType::I64, {1}, {1});
  AttentionParams p;
  p.causal = true, p.bottomRight = true, p.scale = 1.0;
  Tensor out, lse;
  EXPECT_OK(attend(q, k, v, p, out, lse, nullptr, &len));
  EXPECT_TRUE(out.get(0) == 0 && out.get(1) == 0 && out.get(2) == 5);
  EXPECT_TRUE(lse.get(0) == -kInf && lse.get(1) == -kInf);
  EXPECT_CLOSE(lse.get(2), 1.0);
  // Without lengths, bottom-right with Skv = 5 > Sq = 3 gives off = 2.
  EXPECT_TRUE(p.offset(3, 5) == 2);
  EXPECT_TRUE(p.visible(2, 2) && !p.visible(2, 3));
  p.bottomRight = false;
  EXPECT_TRUE(p.offset(3, 5) == 0 && !p.visible(0, 1));
  // Valid lengths mask keys without any causal mask: keys 0, 1 of 3.
  Tensor two = Tensor::fromValues(DType::I32, {1}, {2});
  EXPECT_OK(attend(Tensor::zeros(DType::F64, {1, 1, 1, 1}), k, v,
                  AttentionParams(), out, lse, nullptr, &two));
  EXPECT_CLOSE(out.get(0), 5.5);
  Tensor tooLong = Tensor::fromValues(DType::I64, {1}, {4});
  EXPECT_TRUE(contains(attend(q, k, v, p, out, lse, nullptr, &tooLong), "kv_lengths"));
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
  EXPECT_OK(e);
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

TEST(Reference, WindowBothSides) {
  AttentionParams p;
  p.window = std::make_pair(int64_t(1), int64_t(1));
  // Row i sees keys i-1 .. i+1.
  EXPECT_TRUE(near(meanOfVisible(p, 5), {0.5, 1, 2, 3, 3.5}));
  p.window = std::make_pair(int64_t(2), int64_t(0));
  EXPECT_TRUE(near(meanOfVisible(p, 4), {0, 0.5, 1, 2}));
  p.window = std::make_pair(int64_t(-1), int64_t(1));
  EXPECT_TRUE(near(meanOfVisible(p, 3), {0.5, 1, 1}));
  p.window = std::make_pair(int64_t(-2), int64_t(0));
  Tensor one = f64({1, 1, 1, 1}, {0}), out, lse;
  EXPECT_TRUE(contains(attend(one, one, one, p, out, lse), "window"));
}

TEST(Reference, ParallelBranches) {
  // P = 2, N = 2: rows 0..2 are causal; row 3 sees {0, 1, 3}, row 4 sees
  // {0, 1, 2, 4}, row 5 sees {0, 1, 3, 5}.
  AttentionParams p;
  p.branches = std::make_pair(int64_t(2), int64_t(2));
  EXPECT_TRUE(near(meanOfVisible(p, 6), {0, 0.5, 1, 4.0 / 3, 7.0 / 4, 9.0 / 4}));
  EXPECT_TRUE(!p.visible(4, 3) && p.visible(4, 2) && !p.visible(2, 3));
}

TEST(Reference, ShortMask) {
  // A [1, 2] mask over 3 keys leaves key 2 masked: mean(0, 1).
  Tensor mask = f64({1, 2}, {0, 0});
  EXPECT_TRUE(near(meanOfVisible(AttentionParams(), 1, &mask, 3), {0.5}));
  // A float bias shifts the weights: scores (0, ln 3) -> (1/4, 3/4).
  Tensor bias = f64({1, 2}, {0, std::log(3.0)});
  EXPECT_TRUE(near(meanOfVisible(AttentionParams(), 1, &bias, 2), {0.75}));
  Tensor wide = f64({1, 4}, {0, 0, 0, 0});
  Tensor out, lse;
  EXPECT_TRUE(contains(attend(f64({1, 1, 1, 1}, {0}), f64({1, 1, 3, 1}, {0, 0, 0}),
                        f64({1, 1, 3, 1}, {0, 0, 0}), AttentionParams(), out,
                        lse, &wide),
                 "more keys"));
}

TEST(Merge, EqualsUnion) {
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
  EXPECT_OK(attend(q, keys(kvals, 0, 5), keys(vvals, 0, 5), p, outAll, lseAll));
  EXPECT_OK(attend(q, keys(kvals, 0, 2), keys(vvals, 0, 2), p, outA, lseA));
  EXPECT_OK(attend(q, keys(kvals, 2, 5), keys(vvals, 2, 5), p, outB, lseB));
  EXPECT_OK(referenceMerge({outA, outB}, {lseA, lseB}, out, lse));
  EXPECT_TRUE(compareTensors(out, outAll, {1e-14, 1e-14}).problem.empty());
  EXPECT_TRUE(compareTensors(lse, lseAll, {1e-14, 1e-14}).problem.empty());
  EXPECT_TRUE(compareTensors(out, outA, {1e-3, 1e-3}).problem != "");
  Tensor badLse = f64({1, 1, 2}, {0, 0});
  EXPECT_TRUE(contains(referenceMerge({outA, outB}, {lseA, badLse}, out, lse),
                 "partial 1"));
}

TEST(Merge, AllEmpty) {
  Tensor o = f64({1, 1, 2, 1}, {0, 3});
  Tensor empty = f64({1, 1, 2}, {-kInf, -kInf});
  Tensor mixed = f64({1, 1, 2}, {-kInf, 0.5});
  Tensor out, lse;
  EXPECT_OK(referenceMerge({o, o}, {empty, empty}, out, lse));
  EXPECT_TRUE(out.get(0) == 0 && out.get(1) == 0 && lse.get(0) == -kInf &&
        lse.get(1) == -kInf);
  // An empty partial contributes nothing to a non-empty row.
  EXPECT_OK(referenceMerge({o, o}, {empty, mixed}, out, lse));
  EXPECT_TRUE(out.get(1) == 3 && lse.get(1) == 0.5 && lse.get(0) == -kInf);
}

TEST(Compare, Rules) {
  Tensor ref = f64({3}, {-kInf, 1, 2});
  EXPECT_TRUE(compareTensors(f64({3}, {-kInf, 1, 2}), ref, {1e-5, 1e-4}).problem.empty());
  EXPECT_TRUE(!compareTensors(f64({3}, {0, 1, 2}), ref, {1e-5, 1e-4}).problem.empty());
  EXPECT_TRUE(!compareTensors(f64({3}, {-kInf, std::nan(""), 2}), ref, {1e-5, 1e-4})
             .problem.empty());
  EXPECT_TRUE(!compareTensors(f64({2}, {1, 2}), ref, {1e-5, 1e-4}).problem.empty());
  Tensor zero = f64({2}, {0, 0});
  EXPECT_TRUE(compareTensors(zero, zero, {1e-5, 1e-4}).problem.empty());
  EXPECT_TRUE(!compareTensors(f64({2}, {0, 1e-3}), zero, {1e-5, 1e-4}).problem.empty());
  EXPECT_TRUE(toleranceFor(DType::F32).rel == 1e-5 && toleranceFor(DType::F16).rel == 2e-3);
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
