// LSTM (float32 and hybrid, whole sequences): the elementwise kernels of every built and
// supported path against double precision, the cell update bit for bit against the reference,
// and whole LSTMs (every option: CIFG, peephole, projection with bias and clip, layer norm, cell
// clip, time-major and batch-major, activations, symmetric and asymmetric rows) on every path
// against a literal double-precision LSTM written here (float) and against the reference path
// (hybrid).
//
// Tolerances:
//   sigmoid, tanh: |y - y_double| <= 3e-7 |y_double| + 1e-38 (optimized paths; the reference
//     path computes them in double, so it is the correctly rounded value within 1 ulp).
//   float LSTM vs the double LSTM: 2e-5 (1 + |y|): float sums of up to n_input + n_output
//     products per gate, carried through the state over the steps.
//   hybrid, optimized path vs reference path: the row quantization, int8 sums and epilogues are
//     bit-identical on every path, so the paths differ only through sigmoid/tanh (<= 3e-7
//     relative) -- unless that nudges a value across a quantization boundary of the next row
//     quantization, which moves it by one step of that row (scale = max|h| / 127). Checked: at
//     most 1e-3 (1 + |y|) everywhere and 1e-5 (1 + |y|) for 99% of the values.
//   hybrid vs the float LSTM on the dequantized weights: 0.05 (the quantization error itself).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "check.h"
#include "litequant/lstm.h"

using namespace litequant;

namespace {

const std::vector<Path>& TestablePaths() {
  static const std::vector<Path> paths = [] {
    std::vector<Path> found;
    for (uint32_t i = 0; i < kPathCount; ++i) {
      const Path p = static_cast<Path>(i);
      if (PathBuilt(p) && PathSupported(DetectCpu(), p)) found.push_back(p);
    }
    std::printf("  paths tested:");
    for (Path p : found) std::printf(" %s (%s)", PathName(p), LstmF32KernelsFor(p).name);
    std::printf("\n");
    return found;
  }();
  return paths;
}

std::vector<float> Uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<int8_t> Int8s(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-127, 127);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

// ---- elementwise kernels ----------------------------------------------------------------

std::vector<float> ActivationInputs() {
  std::vector<float> x = {0.0f, -0.0f, 1e-30f, -1e-30f, 1e-7f, 0.624999f, 0.625f, 0.625001f,
                          -0.625f, 9.0f, -9.0f, 20.0f, -20.0f, 87.0f, -87.0f, 88.5f, -88.5f,
                          100.0f, -100.0f, 1e30f, -1e30f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()};
  for (float v = -30.0f; v <= 30.0f; v += 0.000731f) x.push_back(v);
  for (float v = -1.0f; v <= 1.0f; v += 0.0000173f) x.push_back(v);
  x.push_back(std::nanf(""));
  return x;
}

TEST_CASE("sigmoid and tanh within 3e-7 relative of double on every path") {
  const std::vector<float> x = ActivationInputs();
  for (Path path : TestablePaths()) {
    const LstmF32Kernels& k = LstmF32KernelsFor(path);
    // Odd lengths exercise the tails.
    for (size_t n : {x.size(), size_t{1}, size_t{7}, size_t{13}}) {
      std::vector<float> s(n), t(n);
      k.sigmoid(n, x.data(), s.data());
      k.tanh(n, x.data(), t.data());
      double worst_s = 0, worst_t = 0;
      for (size_t i = 0; i < n; ++i) {
        const double xd = x[i];
        const double ws = 1.0 / (1.0 + std::exp(-xd));
        const double wt = std::tanh(xd);
        if (std::isnan(xd)) {
          CHECK_MSG(std::isnan(s[i]) && std::isnan(t[i]), "%s: NaN in gives NaN out", k.name);
          continue;
        }
        const double es = std::abs(s[i] - ws) - 1e-38;
        const double et = std::abs(t[i] - wt) - 1e-38;
        worst_s = std::max(worst_s, es / std::max(ws, 1e-300));
        worst_t = std::max(worst_t, et / std::max(std::abs(wt), 1e-300));
        CHECK_MSG(es <= 3e-7 * ws, "%s sigmoid(%.9g) = %.9g, want %.9g", k.name, x[i], s[i], ws);
        CHECK_MSG(et <= 3e-7 * std::abs(wt), "%s tanh(%.9g) = %.9g, want %.9g", k.name, x[i], t[i],
                  wt);
      }
      if (n == x.size()) {
        std::printf("  %s: max relative error sigmoid %.3g, tanh %.3g\n", k.name, worst_s, worst_t);
      }
    }
    // In place.
    std::vector<float> v = x;
    k.tanh(v.size(), v.data(), v.data());
    std::vector<float> t(x.size());
    k.tanh(x.size(), x.data(), t.data());
    CHECK(std::memcmp(v.data(), t.data(), v.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("the cell update equals the reference bit for bit") {
  for (Path path : TestablePaths()) {
    const LstmF32Kernels& k = LstmF32KernelsFor(path);
    for (size_t n : {size_t{1}, size_t{9}, size_t{64}, size_t{67}}) {
      for (float clip : {0.0f, 0.3f}) {
        for (bool cifg : {false, true}) {
          const auto i = Uniform(n, 0, 1, 1), f = Uniform(n, 0, 1, 2), g = Uniform(n, -1, 1, 3);
          auto c = Uniform(n, -2, 2, 4);
          auto want = c;
          kLstmF32Reference.cell(n, cifg ? nullptr : i.data(), f.data(), g.data(), clip,
                                 want.data());
          k.cell(n, cifg ? nullptr : i.data(), f.data(), g.data(), clip, c.data());
          CHECK_MSG(std::memcmp(c.data(), want.data(), n * sizeof(float)) == 0,
                    "%s n %zu clip %g cifg %d", k.name, n, clip, cifg);
        }
      }
    }
  }
}

TEST_CASE("qs8_gemv equals the exact int32 dot products (tails, extreme values)") {
  for (Path path : TestablePaths()) {
    const LstmF32Kernels& kern = LstmF32KernelsFor(path);
    if (kern.qs8_gemv == nullptr) continue;
    for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{33}, size_t{1024}}) {
      for (size_t k : {size_t{1}, size_t{3}, size_t{4}, size_t{29}, size_t{256}}) {
        for (int extreme = 0; extreme < 2; ++extreme) {
          std::vector<int8_t> w = Int8s(n * k, static_cast<uint32_t>(n * 131 + k));
          std::vector<int8_t> x = Int8s(k + 3, static_cast<uint32_t>(k * 7 + n));
          if (extreme) {
            for (size_t i = 0; i < w.size(); ++i) w[i] = i % 3 == 0 ? 127 : -127;
            for (size_t i = 0; i < k; ++i) x[i] = i % 2 == 0 ? -128 : 127;
          }
          x[k] = x[k + 1] = x[k + 2] = 0;
          std::vector<int8_t> packed(LstmQs8GemvPackedSize(n, k));
          PackLstmQs8Gemv(w.data(), n, k, packed.data());
          std::vector<int32_t> acc(n + 1, 12345);
          kern.qs8_gemv(n, k, packed.data(), x.data(), acc.data());
          size_t bad = 0;
          for (size_t j = 0; j < n; ++j) {
            int32_t want = 0;
            for (size_t kk = 0; kk < k; ++kk) want += w[j * k + kk] * x[kk];
            bad += acc[j] != want;
          }
          CHECK_MSG(bad == 0 && acc[n] == 12345, "%s n %zu k %zu extreme %d: %zu wrong", kern.name,
                    n, k, extreme, bad);
        }
      }
    }
  }
}

// ---- whole LSTMs ----------------------------------------------------------------------------

struct Case {
  const char* name;
  size_t batch, time, n_input, n_cell, n_output;
  bool time_major = false, cifg = false, peephole = false, projection = false,
       projection_bias = false, layer_norm = false, asymmetric = false;
  float cell_clip = 0, proj_clip = 0;
  LstmActivation activation = LstmActivation::kTanh;
};

std::vector<Case> Cases() {
  std::vector<Case> cases;
  auto add = [&](Case c) { cases.push_back(c); };
  add({"plain", 1, 6, 5, 8, 8});
  add({"batch 3 batch-major, sizes off the tiles", 3, 5, 7, 19, 19});
  {
    Case c{"batch 3 time-major", 3, 5, 7, 13, 13};
    c.time_major = true;
    add(c);
  }
  {
    Case c{"CIFG + peephole + cell clip 0.2", 2, 6, 5, 12, 12};
    c.cifg = c.peephole = true;
    c.cell_clip = 0.2f;
    add(c);
  }
  {
    Case c{"peephole + projection (bias, clip 0.1) n_output < n_cell", 2, 5, 6, 20, 9};
    c.peephole = c.projection = c.projection_bias = true;
    c.proj_clip = 0.1f;
    add(c);
  }
  {
    Case c{"projection n_output > n_cell, time-major", 2, 4, 3, 6, 11};
    c.projection = true;
    c.time_major = true;
    add(c);
  }
  {
    Case c{"layer norm", 2, 5, 4, 16, 16};
    c.layer_norm = true;
    add(c);
  }
  {
    Case c{"layer norm + CIFG + peephole + projection, time-major", 2, 4, 5, 16, 7};
    c.layer_norm = c.cifg = c.peephole = c.projection = c.projection_bias = true;
    c.time_major = true;
    add(c);
  }
  for (LstmActivation a : {LstmActivation::kRelu, LstmActivation::kRelu6,
                           LstmActivation::kReluN1To1, LstmActivation::kSignBit}) {
    Case c{"activation", 1, 4, 4, 9, 9};
    c.activation = a;
    add(c);
  }
  {
    Case c{"H=64 I=32 T=20", 1, 20, 32, 64, 64};
    add(c);
  }
  return cases;
}

// Float weights of a case, per gate (the int8 ones are derived from them for hybrid).
struct Weights {
  std::vector<float> wx[4], wh[4], pe[4], bias[4], norm[4], proj, proj_bias;
  // Hybrid: int8 values and scales; the float ones above then hold the dequantized values.
  std::vector<int8_t> qx[4], qh[4], qpe[4], qproj;
  float sx[4] = {}, sh[4] = {}, spe[4] = {}, sproj = 0;
};

Weights MakeWeights(const Case& c, bool hybrid, uint32_t seed) {
  Weights w;
  auto matrix = [&](std::vector<float>* f, std::vector<int8_t>* q, float* s, size_t rows,
                    size_t cols) {
    const float range = 0.9f / std::sqrt(static_cast<float>(cols));
    if (!hybrid) {
      *f = Uniform(rows * cols, -range, range, ++seed);
      return;
    }
    *q = Int8s(rows * cols, ++seed);
    *s = range / 127.0f;
    f->resize(q->size());
    for (size_t i = 0; i < q->size(); ++i) (*f)[i] = *s * static_cast<float>((*q)[i]);
  };
  for (int g = 0; g < 4; ++g) {
    if (g == 0 && c.cifg) continue;
    matrix(&w.wx[g], &w.qx[g], &w.sx[g], c.n_cell, c.n_input);
    matrix(&w.wh[g], &w.qh[g], &w.sh[g], c.n_cell, c.n_output);
    w.bias[g] = Uniform(c.n_cell, g == 1 ? 0.5f : -0.3f, g == 1 ? 1.5f : 0.3f, ++seed);
    if (c.peephole && g != 2) {
      if (hybrid) {
        w.qpe[g] = Int8s(c.n_cell, ++seed);
        w.spe[g] = 0.4f / 127.0f;
        w.pe[g].resize(c.n_cell);
        for (size_t j = 0; j < c.n_cell; ++j) w.pe[g][j] = w.spe[g] * static_cast<float>(w.qpe[g][j]);
      } else {
        w.pe[g] = Uniform(c.n_cell, -0.4f, 0.4f, ++seed);
      }
    }
    if (c.layer_norm) w.norm[g] = Uniform(c.n_cell, 0.5f, 1.5f, ++seed);
  }
  if (c.projection) {
    matrix(&w.proj, &w.qproj, &w.sproj, c.n_output, c.n_cell);
    if (c.projection_bias) w.proj_bias = Uniform(c.n_output, -0.2f, 0.2f, ++seed);
  }
  return w;
}

const float* Ptr(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }
const int8_t* Ptr(const std::vector<int8_t>& v) { return v.empty() ? nullptr : v.data(); }

LstmShape ShapeOf(const Case& c) {
  LstmShape s;
  s.max_time = c.time;
  s.batch = c.batch;
  s.n_input = c.n_input;
  s.n_cell = c.n_cell;
  s.n_output = c.n_output;
  s.time_major = c.time_major;
  return s;
}

LstmOptions OptionsOf(const Case& c, bool asymmetric) {
  LstmOptions o;
  o.activation = c.activation;
  o.cell_clip = c.cell_clip;
  o.proj_clip = c.proj_clip;
  o.asymmetric_quantize_inputs = asymmetric;
  return o;
}

double Act(LstmActivation a, double v) {
  switch (a) {
    case LstmActivation::kTanh: return std::tanh(v);
    case LstmActivation::kRelu: return v < 0 ? 0 : v;
    case LstmActivation::kRelu6: return v < 0 ? 0 : (v > 6 ? 6 : v);
    case LstmActivation::kReluN1To1: return v < -1 ? -1 : (v > 1 ? 1 : v);
    case LstmActivation::kSignBit: return v < 0 || (v == 0 && std::signbit(v)) ? 1 : 0;
  }
  return v;
}

// The float LSTM in double, literally (TFLite's loop order); returns the output rows.
std::vector<double> DoubleLstm(const Case& c, const Weights& w, const std::vector<float>& x) {
  const size_t ni = c.n_input, nc = c.n_cell, no = c.n_output;
  std::vector<double> h(c.batch * no, 0.0), cs(c.batch * nc, 0.0), out(c.batch * c.time * no);
  auto clip = [](double v, double m) { return m > 0 ? std::max(-m, std::min(m, v)) : v; };
  auto one = [&](size_t row, size_t b) {
    double* hr = h.data() + b * no;
    double* cr = cs.data() + b * nc;
    std::vector<double> gate[4];
    for (int g = 0; g < 4; ++g) {
      if (g == 0 && c.cifg) continue;
      gate[g].resize(nc);
      for (size_t j = 0; j < nc; ++j) {
        double v = c.layer_norm ? 0 : w.bias[g][j];
        for (size_t k = 0; k < ni; ++k) v += double(w.wx[g][j * ni + k]) * x[row * ni + k];
        for (size_t k = 0; k < no; ++k) v += double(w.wh[g][j * no + k]) * hr[k];
        if (c.peephole && g != 2 && g != 3) v += double(w.pe[g][j]) * cr[j];
        gate[g][j] = v;
      }
    }
    auto finish = [&](int g) {
      std::vector<double>& v = gate[g];
      if (c.peephole && g == 3) {
        for (size_t j = 0; j < nc; ++j) v[j] += double(w.pe[3][j]) * cr[j];
      }
      if (c.layer_norm) {
        double mean = 0, var = 0;
        for (double e : v) mean += e;
        mean /= double(nc);
        for (double e : v) var += (e - mean) * (e - mean);
        var /= double(nc);
        for (size_t j = 0; j < nc; ++j) {
          v[j] = w.norm[g][j] * ((v[j] - mean) / std::sqrt(var + 1e-8)) + w.bias[g][j];
        }
      }
      for (double& e : v) e = g == 2 ? Act(c.activation, e) : 1.0 / (1.0 + std::exp(-e));
    };
    if (!c.cifg) finish(0);
    finish(1);
    finish(2);
    for (size_t j = 0; j < nc; ++j) {
      const double in = c.cifg ? 1.0 - gate[1][j] : gate[0][j];
      cr[j] = clip(gate[1][j] * cr[j] + gate[2][j] * in, c.cell_clip);
    }
    finish(3);
    std::vector<double> hidden(nc);
    for (size_t j = 0; j < nc; ++j) hidden[j] = gate[3][j] * Act(c.activation, cr[j]);
    for (size_t j = 0; j < no; ++j) {
      if (!c.projection) {
        hr[j] = hidden[j];
        continue;
      }
      double v = c.projection_bias ? w.proj_bias[j] : 0;
      for (size_t k = 0; k < nc; ++k) v += double(w.proj[j * nc + k]) * hidden[k];
      hr[j] = clip(v, c.proj_clip);
    }
    std::memcpy(out.data() + row * no, hr, no * sizeof(double));
  };
  if (c.time_major) {
    for (size_t t = 0; t < c.time; ++t) {
      for (size_t b = 0; b < c.batch; ++b) one(t * c.batch + b, b);
    }
  } else {
    for (size_t b = 0; b < c.batch; ++b) {
      for (size_t t = 0; t < c.time; ++t) one(b * c.time + t, b);
    }
  }
  return out;
}

std::shared_ptr<const LstmPacked> Pack(const Case& c, const Weights& w, bool hybrid,
                                       bool asymmetric, Path path) {
  if (!hybrid) {
    LstmF32Weights f;
    for (int g = 0; g < 4; ++g) {
      f.input[g] = Ptr(w.wx[g]);
      f.recurrent[g] = Ptr(w.wh[g]);
      f.peephole[g] = Ptr(w.pe[g]);
      f.bias[g] = Ptr(w.bias[g]);
      f.layer_norm[g] = Ptr(w.norm[g]);
    }
    f.projection = Ptr(w.proj);
    f.projection_bias = Ptr(w.proj_bias);
    return PackLstmF32(ShapeOf(c), OptionsOf(c, false), f, path);
  }
  LstmHybridWeights q;
  for (int g = 0; g < 4; ++g) {
    q.input[g] = Ptr(w.qx[g]);
    q.input_scale[g] = w.sx[g];
    q.recurrent[g] = Ptr(w.qh[g]);
    q.recurrent_scale[g] = w.sh[g];
    q.peephole[g] = Ptr(w.qpe[g]);
    q.peephole_scale[g] = w.spe[g];
    q.bias[g] = Ptr(w.bias[g]);
    q.layer_norm[g] = Ptr(w.norm[g]);
  }
  q.projection = Ptr(w.qproj);
  q.projection_scale = w.sproj;
  q.projection_bias = Ptr(w.proj_bias);
  return PackLstmHybrid(ShapeOf(c), OptionsOf(c, asymmetric), q, path);
}

std::vector<float> Run(const Case& c, const LstmPacked& p, const std::vector<float>& x) {
  std::vector<float> h(c.batch * c.n_output, 0.0f), cs(c.batch * c.n_cell, 0.0f);
  std::vector<float> y(c.batch * c.time * c.n_output, -1.0f);
  LstmRun(p, x.data(), h.data(), cs.data(), y.data(), nullptr);
  // The final state is the last output row of each batch row.
  for (size_t b = 0; b < c.batch; ++b) {
    const size_t row = c.time_major ? (c.time - 1) * c.batch + b : b * c.time + c.time - 1;
    CHECK(std::memcmp(h.data() + b * c.n_output, y.data() + row * c.n_output,
                      c.n_output * sizeof(float)) == 0);
  }
  return y;
}

TEST_CASE("float LSTMs on every path equal the double-precision LSTM within 2e-5") {
  uint32_t seed = 10;
  for (const Case& c : Cases()) {
    const Weights w = MakeWeights(c, false, seed += 100);
    const auto x = Uniform(c.batch * c.time * c.n_input, -1, 1, seed + 7);
    const auto want = DoubleLstm(c, w, x);
    for (Path path : TestablePaths()) {
      const auto got = Run(c, *Pack(c, w, false, false, path), x);
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst, std::abs(got[i] - want[i]) / (1 + std::abs(want[i])));
      }
      CHECK_MSG(worst <= 2e-5, "%s on %s: worst %.3g", c.name, PathName(path), worst);
    }
  }
}

TEST_CASE("hybrid LSTMs: every path agrees with the reference path; both near float") {
  uint32_t seed = 20;
  for (const Case& c : Cases()) {
    for (bool asymmetric : {false, true}) {
      const Weights w = MakeWeights(c, true, seed += 100);
      const auto x = Uniform(c.batch * c.time * c.n_input, -1, 1, seed + 7);
      const auto want_float = DoubleLstm(c, w, x);
      const auto ref = Run(c, *Pack(c, w, true, asymmetric, Path::kReference), x);
      double worst_float = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        worst_float = std::max(worst_float, std::abs(ref[i] - want_float[i]) / (1 + std::abs(want_float[i])));
      }
      // SIGN_BIT turns tiny differences into 0/1 flips: only the paths are compared there.
      if (c.activation != LstmActivation::kSignBit) {
        CHECK_MSG(worst_float <= 0.05, "%s asym %d: hybrid vs float %.3g", c.name, asymmetric,
                  worst_float);
      }
      for (Path path : TestablePaths()) {
        const auto got = Run(c, *Pack(c, w, true, asymmetric, path), x);
        size_t loose = 0;
        double worst = 0;
        for (size_t i = 0; i < got.size(); ++i) {
          const double e = std::abs(got[i] - ref[i]) / (1 + std::abs(ref[i]));
          worst = std::max(worst, e);
          loose += e > 1e-5;
        }
        const bool sign_bit = c.activation == LstmActivation::kSignBit;
        CHECK_MSG(sign_bit || worst <= 1e-3, "%s asym %d on %s: worst %.3g", c.name, asymmetric,
                  PathName(path), worst);
        CHECK_MSG(sign_bit || loose * 100 <= got.size(), "%s asym %d on %s: %zu of %zu beyond 1e-5",
                  c.name, asymmetric, PathName(path), loose, got.size());
      }
    }
  }
}

TEST_CASE("inconsistent weights are refused naming the problem") {
  Case c{"plain", 1, 2, 3, 4, 4};
  Weights w = MakeWeights(c, false, 5);
  LstmF32Weights f;
  for (int g = 0; g < 4; ++g) {
    f.input[g] = Ptr(w.wx[g]);
    f.recurrent[g] = Ptr(w.wh[g]);
    f.bias[g] = Ptr(w.bias[g]);
  }
  auto refused = [&](const LstmF32Weights& bad, const LstmShape& shape, const char* what) {
    bool threw = false;
    try {
      PackLstmF32(shape, LstmOptions{}, bad);
    } catch (const std::invalid_argument& e) {
      threw = std::strstr(e.what(), what) != nullptr;
      if (!threw) std::printf("  message: %s\n", e.what());
    }
    CHECK_MSG(threw, "expected a refusal naming '%s'", what);
  };
  LstmF32Weights half = f;
  half.recurrent[0] = nullptr;
  refused(half, ShapeOf(c), "CIFG");
  LstmF32Weights no_bias = f;
  no_bias.bias[2] = nullptr;
  refused(no_bias, ShapeOf(c), "cell gate");
  LstmF32Weights some_peephole = f;
  some_peephole.peephole[1] = w.bias[1].data();
  refused(some_peephole, ShapeOf(c), "peephole");
  LstmShape wide = ShapeOf(c);
  wide.n_output = 5;
  refused(f, wide, "without a projection");
}

}  // namespace

TEST_MAIN()
