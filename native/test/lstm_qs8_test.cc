// Full-integer LSTM: every built and supported path's kernels equal the reference kernels bit
// for bit on random values over the whole int16/int32 ranges (saturating sums, wrapping bias
// additions, shifts from -31 to +31, clips, CIFG's 32767 - f with any f), and whole packed
// LSTMs of every option combination (CIFG, peephole, layer norm, projection, clips,
// time-major, batch > 1, odd sizes, weights at -128) equal the reference path's run. That the
// reference path equals the TypeScript reference (and TFLite) is checked by
// test/runtime/lstm-qs8-native.test.ts.
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "check.h"
#include "litequant/lstm_qs8.h"

using namespace litequant;

namespace {

const std::vector<Path>& TestablePaths() {
  static const std::vector<Path> paths = [] {
    std::vector<Path> found;
    for (uint32_t i = 0; i < kPathCount; ++i) {
      const Path p = static_cast<Path>(i);
      if (p == Path::kReference) continue;
      if (PathBuilt(p) && PathSupported(DetectCpu(), p)) found.push_back(p);
      else if (PathBuilt(p)) std::printf("  skip %s: not supported by this CPU\n", PathName(p));
    }
    std::printf("  paths tested against the reference:");
    for (Path p : found) std::printf(" %s (%s)", PathName(p), LstmQs8KernelsFor(p).name);
    std::printf("\n");
    return found;
  }();
  return paths;
}

std::mt19937& Rng() {
  static std::mt19937 rng(20240607);
  return rng;
}

int32_t Uniform(int32_t lo, int32_t hi) {
  return std::uniform_int_distribution<int32_t>(lo, hi)(Rng());
}

// Mostly uniform values, with a share of the range's extremes (saturation).
template <typename T>
std::vector<T> Values(size_t n, int32_t lo, int32_t hi) {
  std::vector<T> v(n);
  for (T& x : v) {
    const int32_t pick = Uniform(0, 9);
    x = static_cast<T>(pick == 0 ? lo : pick == 1 ? hi : Uniform(lo, hi));
  }
  return v;
}

std::vector<int32_t> Int32s(size_t n) {
  return Values<int32_t>(n, std::numeric_limits<int32_t>::min(),
                         std::numeric_limits<int32_t>::max());
}
std::vector<int16_t> Int16s(size_t n) { return Values<int16_t>(n, -32768, 32767); }

QuantizedMultiplier Multiplier(int lo_shift, int hi_shift) {
  return {Uniform(1 << 30, std::numeric_limits<int32_t>::max()), Uniform(lo_shift, hi_shift)};
}

const size_t kLengths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 259};

TEST_CASE("kernels equal the reference on random and saturating values") {
  const LstmQs8Kernels& ref = kLstmQs8Reference;
  for (Path path : TestablePaths()) {
    const LstmQs8Kernels& k = LstmQs8KernelsFor(path);
    for (size_t n : kLengths) {
      for (int trial = 0; trial < 20; ++trial) {
        {
          const auto in = Int32s(n), in_bias = Int32s(n), rec = Int32s(n), rec_bias = Int32s(n);
          const QuantizedMultiplier in_m = Multiplier(-31, 31), rec_m = Multiplier(-31, 31);
          const auto table = Int16s(65536);
          const int16_t* fused = trial % 2 == 0 ? nullptr : table.data();
          std::vector<int16_t> a(n), b(n);
          ref.gate(n, in.data(), in_bias.data(), in_m, rec.data(), rec_bias.data(), rec_m, fused,
                   a.data());
          k.gate(n, in.data(), in_bias.data(), in_m, rec.data(), rec_bias.data(), rec_m, fused,
                 b.data());
          CHECK_MSG(a == b, "%s gate n=%zu table=%d", PathName(path), n, fused != nullptr);
        }
        {
          const auto w = Int16s(n), c = Int16s(n);
          auto a = Int16s(n);
          auto b = a;
          const QuantizedMultiplier m = Multiplier(-31, 31);
          ref.peephole(n, w.data(), c.data(), m, a.data());
          k.peephole(n, w.data(), c.data(), m, b.data());
          CHECK_MSG(a == b, "%s peephole n=%zu", PathName(path), n);
        }
        {
          const auto table = Int16s(65536), x = Int16s(n);
          std::vector<int16_t> a(n), b(n);
          ref.lookup(n, table.data(), x.data(), a.data());
          k.lookup(n, table.data(), x.data(), b.data());
          CHECK_MSG(a == b, "%s lookup n=%zu", PathName(path), n);
        }
        {
          const auto i = Int16s(n), f = Int16s(n), g = Int16s(n);
          auto a = Int16s(n);
          auto b = a;
          const int mix_shift = Uniform(15, 21);
          const int32_t clip = trial % 3 == 0 ? 0 : Uniform(1, 32767);
          const int16_t* input = trial % 2 == 0 ? nullptr : i.data();
          ref.cell(n, input, f.data(), g.data(), mix_shift, clip, a.data());
          k.cell(n, input, f.data(), g.data(), mix_shift, clip, b.data());
          CHECK_MSG(a == b, "%s cell n=%zu shift=%d clip=%d cifg=%d", PathName(path), n, mix_shift,
                    clip, input == nullptr);
        }
        {
          const auto o = Int16s(n), t = Int16s(n);
          const QuantizedMultiplier m = Multiplier(-31, 31);
          const int32_t zp = Uniform(-128, 128);
          std::vector<int8_t> a(n), b(n);
          ref.hidden(n, o.data(), t.data(), m, zp, a.data());
          k.hidden(n, o.data(), t.data(), m, zp, b.data());
          CHECK_MSG(a == b, "%s hidden n=%zu", PathName(path), n);
        }
        {
          const auto acc = Int32s(n), bias = Int32s(n);
          const QuantizedMultiplier m = Multiplier(-31, 31);
          const int32_t zp = Uniform(-128, 127);
          const int32_t clip = trial % 3 == 0 ? 0 : Uniform(1, 127);
          std::vector<int8_t> a(n), b(n);
          ref.output(n, acc.data(), bias.data(), m, zp, clip, a.data());
          k.output(n, acc.data(), bias.data(), m, zp, clip, b.data());
          CHECK_MSG(a == b, "%s output n=%zu", PathName(path), n);
        }
      }
    }
  }
}

TEST_CASE("matrix-vector kernels equal plain loops (weights and h at -128)") {
  const size_t sizes[] = {1, 2, 3, 5, 15, 16, 17, 31, 32, 33, 47, 64, 100};
  for (Path path : TestablePaths()) {
    const LstmQs8Kernels& k = LstmQs8KernelsFor(path);
    if (k.matvec == nullptr) continue;
    for (size_t n : sizes) {
      for (size_t kk : sizes) {
        const auto w = Values<int8_t>(n * kk, -128, 127);
        const auto h = Values<int8_t>(kk, -128, 127);
        std::vector<int8_t> packed(k.matvec_packed_size(n, kk));
        k.matvec_pack(n, kk, w.data(), packed.data());
        alignas(32) unsigned char scratch[1024];
        CHECK(k.matvec_scratch_size(kk) <= sizeof(scratch));
        std::vector<int32_t> got(n + 1, 12345);
        k.matvec(n, kk, packed.data(), h.data(), scratch, got.data());
        bool same = got[n] == 12345;  // nothing written past n
        for (size_t j = 0; j < n; ++j) {
          int32_t want = 0;
          for (size_t r = 0; r < kk; ++r) want += int32_t{w[j * kk + r]} * h[r];
          same = same && got[j] == want;
        }
        CHECK_MSG(same, "%s matvec n=%zu k=%zu", PathName(path), n, kk);
      }
    }
  }
}

// One random LSTM: its arrays, and the params pointing into them.
struct RandomLstm {
  LstmQs8Params params;
  std::vector<int8_t> input_weights[4], recurrent_weights[4], projection;
  std::vector<int32_t> input_bias[4], recurrent_bias[4], layer_norm_bias[4], projection_bias;
  std::vector<int16_t> peephole[4], layer_norm[4], sigmoid, tanh_gate, tanh_cell;

  RandomLstm(const LstmShape& shape, bool cifg, bool peephole_on, bool layer_norm_on,
             bool projection_on, bool clips, bool min_weights) {
    LstmQs8Params& p = params;
    p.shape = shape;
    const size_t n_in = shape.n_input, n_cell = shape.n_cell, n_out = shape.n_output;
    const int32_t wmin = min_weights ? -128 : -127;
    for (int g = 0; g < 4; ++g) {
      if (g == 0 && cifg) continue;
      input_weights[g] = Values<int8_t>(n_cell * n_in, wmin, 127);
      recurrent_weights[g] = Values<int8_t>(n_cell * n_out, wmin, 127);
      // Biases small enough that gates do not all saturate (and some that do).
      input_bias[g] = Values<int32_t>(n_cell, -(1 << 20), 1 << 20);
      recurrent_bias[g] = Values<int32_t>(n_cell, -(1 << 20), 1 << 20);
      p.input_weights[g] = input_weights[g].data();
      p.recurrent_weights[g] = recurrent_weights[g].data();
      p.input_bias[g] = input_bias[g].data();
      p.recurrent_bias[g] = recurrent_bias[g].data();
      p.input_scale[g] = Multiplier(-12, -6);
      p.recurrent_scale[g] = Multiplier(-12, -6);
      if (peephole_on && g != 2) {
        peephole[g] = Int16s(n_cell);
        p.peephole[g] = peephole[g].data();
        p.peephole_scale[g] = Multiplier(-20, -10);
      }
      if (layer_norm_on) {
        layer_norm[g] = Int16s(n_cell);
        layer_norm_bias[g] = Values<int32_t>(n_cell, -(1 << 16), 1 << 16);
        p.layer_norm[g] = layer_norm[g].data();
        p.layer_norm_bias[g] = layer_norm_bias[g].data();
        p.layer_norm_scale[g] = Multiplier(-14, -8);
        p.variance_guard[g] = Uniform(1, 100);
      }
    }
    if (projection_on) {
      projection = Values<int8_t>(n_out * n_cell, wmin, 127);
      projection_bias = Values<int32_t>(n_out, -(1 << 16), 1 << 16);
      p.projection = projection.data();
      p.projection_bias = projection_bias.data();
      p.projection_scale = Multiplier(-14, -6);
    }
    p.hidden_scale = Multiplier(-24, -18);
    p.hidden_output_zero_point = Uniform(-128, 128);
    p.hidden_zero_point = Uniform(-128, 127);
    p.output_state_zero_point = Uniform(-128, 127);
    p.cell_shift = Uniform(-15, -9);
    p.cell_clip = clips ? Uniform(1, 32767) : 0;
    p.proj_clip = clips ? Uniform(1, 127) : 0;
    sigmoid = Int16s(65536);
    tanh_gate = Int16s(65536);
    tanh_cell = Int16s(65536);
    p.sigmoid_table = sigmoid.data();
    p.tanh_gate_table = tanh_gate.data();
    p.tanh_cell_table = tanh_cell.data();
  }
};

struct RunResult {
  std::vector<int8_t> output, output_state;
  std::vector<int16_t> cell_state;
  bool operator==(const RunResult& o) const {
    return output == o.output && output_state == o.output_state && cell_state == o.cell_state;
  }
};

RunResult Run(const LstmQs8Packed& packed, const std::vector<int8_t>& input,
              const std::vector<int8_t>& h0, const std::vector<int16_t>& c0) {
  const LstmShape& s = LstmQs8PackedShape(packed);
  RunResult r{std::vector<int8_t>(s.max_time * s.batch * s.n_output), h0, c0};
  LstmQs8Run(packed, input.data(), r.output_state.data(), r.cell_state.data(), r.output.data(),
             nullptr);
  return r;
}

TEST_CASE("whole LSTMs of every option combination equal the reference path") {
  int cases = 0;
  for (int options = 0; options < 64; ++options) {
    const bool cifg = options & 1, peephole = options & 2, layer_norm = options & 4,
               projection = options & 8, clips = options & 16, time_major = options & 32;
    LstmShape shape;
    shape.max_time = static_cast<size_t>(Uniform(1, 6));
    shape.batch = static_cast<size_t>(Uniform(1, 3));
    shape.n_input = static_cast<size_t>(Uniform(1, 21));
    shape.n_cell = static_cast<size_t>(Uniform(1, 27));
    const auto n_cell = static_cast<int32_t>(shape.n_cell);
    // A projection may widen the output, except with a peephole (TFLite reads past its weights).
    const int32_t widest = peephole ? n_cell : n_cell + 5;
    shape.n_output = projection ? static_cast<size_t>(Uniform(1, widest)) : shape.n_cell;
    shape.time_major = time_major;
    const RandomLstm lstm(shape, cifg, peephole, layer_norm, projection, clips, options % 5 == 0);
    const auto input = Values<int8_t>(shape.max_time * shape.batch * shape.n_input, -128, 127);
    const auto h0 = Values<int8_t>(shape.batch * shape.n_output, -128, 127);
    const auto c0 = Int16s(shape.batch * shape.n_cell);
    const RunResult want = Run(*PackLstmQs8(lstm.params, Path::kReference), input, h0, c0);
    for (Path path : TestablePaths()) {
      const auto packed = PackLstmQs8(lstm.params, path);
      CHECK_MSG(Run(*packed, input, h0, c0) == want, "%s (%s) options=%d", PathName(path),
                LstmQs8PackedKernelName(*packed), options);
      ++cases;
    }
  }
  std::printf("  %d packed LSTMs compared\n", cases);
}

// 39 input rows: several chunks of the input GEMM (18 rows per chunk when time-major).
TEST_CASE("a larger LSTM (H=64, I=40, T=13, batch 3) equals the reference path") {
  LstmShape shape;
  shape.max_time = 13;
  shape.batch = 3;
  shape.n_input = 40;
  shape.n_cell = 64;
  shape.n_output = 64;
  for (bool time_major : {false, true}) {
    shape.time_major = time_major;
    const RandomLstm lstm(shape, false, true, false, false, true, false);
    const auto input = Values<int8_t>(shape.max_time * shape.batch * shape.n_input, -128, 127);
    const auto h0 = Values<int8_t>(shape.batch * shape.n_output, -128, 127);
    const auto c0 = Int16s(shape.batch * shape.n_cell);
    const RunResult want = Run(*PackLstmQs8(lstm.params, Path::kReference), input, h0, c0);
    for (Path path : TestablePaths()) {
      CHECK_MSG(Run(*PackLstmQs8(lstm.params, path), input, h0, c0) == want, "%s", PathName(path));
    }
  }
}

TEST_CASE("packing refuses inconsistent parameters") {
  LstmShape shape;
  shape.max_time = 2;
  shape.batch = 1;
  shape.n_input = 3;
  shape.n_cell = 4;
  shape.n_output = 4;
  auto refuses = [](const LstmQs8Params& p, const char* what) {
    try {
      PackLstmQs8(p, Path::kReference);
      CHECK_MSG(false, "accepted: %s", what);
    } catch (const std::invalid_argument& e) {
      CHECK_MSG(std::string(e.what()).find("integer LSTM: ") == 0, "%s", e.what());
    }
  };
  {
    RandomLstm lstm(shape, false, false, false, false, false, false);
    lstm.params.recurrent_weights[0] = nullptr;
    refuses(lstm.params, "half CIFG");
  }
  {
    RandomLstm lstm(shape, false, true, false, false, false, false);
    lstm.params.peephole[3] = nullptr;
    refuses(lstm.params, "peephole for some gates");
  }
  {
    RandomLstm lstm(shape, false, false, false, false, false, false);
    lstm.params.cell_shift = -8;
    refuses(lstm.params, "cell scale 2^-8");
  }
  {
    RandomLstm lstm(shape, false, false, false, false, false, false);
    lstm.params.hidden_scale.shift = -32;
    refuses(lstm.params, "shift -32");
  }
  {
    RandomLstm lstm(shape, false, false, true, false, false, false);
    lstm.params.layer_norm_scale[1].shift = 20;
    refuses(lstm.params, "layer norm shift + 12 > 31");
  }
  {
    RandomLstm lstm(shape, false, false, false, false, false, false);
    lstm.params.tanh_cell_table = nullptr;
    refuses(lstm.params, "missing table");
  }
  {
    shape.n_output = 3;
    RandomLstm lstm(shape, false, false, false, false, false, false);
    refuses(lstm.params, "n_output != n_cell without projection");
  }
}

}  // namespace

TEST_MAIN()
