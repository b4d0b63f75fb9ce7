// The packed hybrid (dynamic-range) layers: FULLY_CONNECTED, BATCH_MATMUL and CONV_2D against a
// plain-JS transcription of TFLite's rules (bit for bit: every float operation rounded with
// Math.fround in the same order), the official dynamic-range autoencoder run layer by layer
// (reconstruction MSE against the README's runtime baseline), run() into a given output and
// reuse across calls, and argument errors (wrappers and the addon itself).
import { readFileSync } from 'node:fs';
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { callNative, capabilities, native, selectIsa } from '../../lib/native/index.js';
import { packHybridBatchMatMul, packHybridConv2d, packHybridFullyConnected } from '../../lib/native/hybrid.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType, TensorType } from '../../lib/tflite/schema.js';
import { readNpy } from '../../lib/npy.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';

const f = Math.fround;

function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

interface QuantizedRow {
  q: number[];
  scale: number;
  offset: number;
}

// TFLite's AsymmetricQuantizeFloats / SymmetricQuantizeFloats (portable), for finite rows.
function quantizeRow(x: ArrayLike<number>, asymmetric: boolean): QuantizedRow {
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < x.length; i++) {
    mn = Math.min(mn, x[i]!);
    mx = Math.max(mx, x[i]!);
  }
  if (asymmetric) {
    const rmin = Math.min(0, mn);
    const rmax = Math.max(0, mx);
    if (rmin === rmax) return { q: Array.from(x, () => 0), scale: 1, offset: 0 };
    const s = (rmax - rmin) / 255;
    const zpMin = -128 - rmin / s;
    const zpMax = 127 - rmax / s;
    const zp = 128 + Math.abs(rmin / s) < 127 + Math.abs(rmax / s) ? zpMin : zpMax;
    const offset = zp <= -128 ? -128 : zp >= 127 ? 127 : roundHalfAway(zp);
    const scale = f(s);
    const inv = f(1 / scale);
    const q = Array.from(x, (v) => Math.min(127, Math.max(-128, roundHalfAway(f(offset + f(v * inv))))));
    return { q, scale, offset };
  }
  const range = Math.max(Math.abs(mn), Math.abs(mx));
  if (range === 0) return { q: Array.from(x, () => 0), scale: 1, offset: 0 };
  const scale = f(range / 127);
  const inv = f(127 / range);
  const q = Array.from(x, (v) => Math.min(127, Math.max(-127, roundHalfAway(f(v * inv)))));
  return { q, scale, offset: 0 };
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

function randomFloats(n: number, rand: () => number, spread: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * spread);
}

function randomInt8(n: number, rand: () => number): Int8Array {
  return Int8Array.from({ length: n }, () => Math.floor(rand() * 255) - 127);
}

t.test('FULLY_CONNECTED equals TFLite rules bit for bit on every path', async (t) => {
  const rand = lcg(3);
  const [batch, k, units] = [4, 45, 21];
  const input = randomFloats(batch * k, rand, 2);
  input.fill(0, k, 2 * k); // an all-zero row: output = act(bias)
  for (let i = 2 * k; i < 3 * k; i++) input[i] = Math.abs(input[i]!) + 0.5; // one-signed row
  const weights = randomInt8(units * k, rand);
  const bias = randomFloats(units, rand, 1);
  const perChannel = Array.from({ length: units }, () => f(10 ** (-1 - rand() * 4)));
  const original = capabilities().selected;
  for (const isa of capabilities().isa) {
    selectIsa(isa);
    for (const asymmetric of [false, true]) {
      for (const weightScale of [f(0.0173), perChannel]) {
        for (const activation of ['none', 'relu'] as const) {
          const got = packHybridFullyConnected(weights, bias, units, {
            weightScale,
            asymmetricQuantizeInputs: asymmetric,
            activation,
          }).run(input);
          const want: number[] = [];
          for (let b = 0; b < batch; b++) {
            const row = quantizeRow(input.subarray(b * k, (b + 1) * k), asymmetric);
            const rowScale = typeof weightScale === 'number' ? f(row.scale * weightScale) : row.scale;
            for (let n = 0; n < units; n++) {
              let acc = 0;
              let colsum = 0;
              for (let i = 0; i < k; i++) {
                acc += row.q[i]! * weights[n * k + i]!;
                colsum += weights[n * k + i]!;
              }
              const s = typeof weightScale === 'number' ? rowScale : f(weightScale[n]! * rowScale);
              let y = f(bias[n]! + f(f(acc - row.offset * colsum) * s));
              if (activation === 'relu') y = Math.max(y, 0);
              want.push(y);
            }
          }
          t.same(
            Array.from(got),
            want,
            `${isa} ${asymmetric ? 'asymmetric' : 'symmetric'} ${typeof weightScale === 'number' ? 'per-tensor' : 'per-channel'} ${activation}`,
          );
        }
      }
    }
  }
  selectIsa(original);
});

t.test('BATCH_MATMUL equals TFLite rules (float offset correction, rhs layouts)', async (t) => {
  const rand = lcg(9);
  const [batch, rows, k, n] = [2, 3, 19, 6];
  const input = randomFloats(batch * rows * k, rand, 3);
  const rhsKN = randomInt8(k * n, rand); // [k, n]
  const rhsNK = new Int8Array(k * n);
  for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) rhsNK[j * k + kk] = rhsKN[kk * n + j]!;
  for (const asymmetric of [false, true]) {
    const layerA = packHybridBatchMatMul(rhsKN, {
      rhsShape: [k, n],
      weightScale: 0.02,
      asymmetricQuantizeInputs: asymmetric,
    });
    const layerB = packHybridBatchMatMul(rhsNK, {
      rhsShape: [n, k],
      adjY: true,
      weightScale: 0.02,
      asymmetricQuantizeInputs: asymmetric,
    });
    t.same([layerA.kind, layerA.units, layerA.inputSize], ['batch-matmul', n, k]);
    const a = { output: layerA.run(input) };
    const b = { output: layerB.run(input) };
    t.equal(a.output.length, batch * rows * n);
    t.same(Array.from(a.output), Array.from(b.output), 'adjY layouts agree');
    const want: number[] = [];
    for (let r = 0; r < batch * rows; r++) {
      const row = quantizeRow(input.subarray(r * k, (r + 1) * k), asymmetric);
      const s = f(row.scale * f(0.02));
      for (let j = 0; j < n; j++) {
        let acc = 0;
        let colsum = 0;
        for (let kk = 0; kk < k; kk++) {
          acc += row.q[kk]! * rhsKN[kk * n + j]!;
          colsum += rhsKN[kk * n + j]!;
        }
        const total = Math.trunc(f(f(acc) - f(f(colsum) * row.offset)));
        want.push(f(s * f(total)));
      }
    }
    t.same(Array.from(a.output), want, asymmetric ? 'asymmetric' : 'symmetric');
  }
});

t.test('CONV_2D equals a JS direct loop (per-channel: asymmetric per image, padding skipped)', async (t) => {
  const rand = lcg(21);
  const [batch, h, w, c, oc, kh, kw] = [2, 5, 6, 3, 4, 3, 3];
  const input = randomFloats(batch * h * w * c, rand, 1.5);
  const filter = randomInt8(oc * kh * kw * c, rand);
  const bias = randomFloats(oc, rand, 0.5);
  for (const weightScale of [[0.01, 0.02, 0.005, 0.03], 0.01]) {
    const layer = packHybridConv2d(filter, bias, {
      inputShape: [batch, h, w, c],
      filterShape: [oc, kh, kw, c],
      padding: 'same',
      stride: [2, 1],
      weightScale,
      activation: 'relu6',
    });
    const shape = layer.outputShape;
    const output = layer.run(input);
    const [outH, outW] = [Math.ceil(h / 2), w];
    t.same(shape, [batch, outH, outW, oc]);
    const padTop = Math.floor(Math.max(0, (outH - 1) * 2 + kh - h) / 2);
    const padLeft = Math.floor(Math.max(0, outW - 1 + kw - w) / 2);
    const perChannel = typeof weightScale !== 'number';
    const want: number[] = [];
    for (let b = 0; b < batch; b++) {
      const image = input.subarray(b * h * w * c, (b + 1) * h * w * c);
      const row = quantizeRow(image, perChannel);
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          for (let o = 0; o < oc; o++) {
            let acc = 0;
            for (let fy = 0; fy < kh; fy++) {
              for (let fx = 0; fx < kw; fx++) {
                const y = oy * 2 - padTop + fy;
                const x = ox - padLeft + fx;
                if (y < 0 || y >= h || x < 0 || x >= w) continue;
                for (let ic = 0; ic < c; ic++) {
                  acc += filter[((o * kh + fy) * kw + fx) * c + ic]! * (row.q[(y * w + x) * c + ic]! - row.offset);
                }
              }
            }
            const s = perChannel
              ? f(f((weightScale as number[])[o]!) * row.scale)
              : f(row.scale * f(weightScale as number));
            want.push(Math.min(6, Math.max(0, f(bias[o]! + f(f(acc) * s)))));
          }
        }
      }
    }
    t.same(Array.from(output), want, perChannel ? 'per-channel (asymmetric)' : 'per-tensor (symmetric)');
  }
});

t.test('the official dynamic-range autoencoder, layer by layer, matches the runtime baseline', { skip: sharedSkip('models', 'ad01_fc_autoencoder_dynrange_official.tflite') || sharedSkip('data', 'toycar_196_x.npy') }, async (t) => {
  const graph = readModel(new Uint8Array(readFileSync(sharedPath('models', 'ad01_fc_autoencoder_dynrange_official.tflite'))));
  const sg = graph.subgraphs[0]!;
  const data = readNpy(new Uint8Array(readFileSync(sharedPath('data', 'toycar_196_x.npy'))));
  const windows = data.shape[0]!;
  const x = data.data as Float32Array;
  let act = x;
  for (const op of sg.operators) {
    const opts = op.builtinOptions;
    if (opts?.kind !== 'FullyConnectedOptions') throw new Error('expected FULLY_CONNECTED only');
    const [, wT, bT] = op.inputs.map((i) => (i >= 0 ? sg.tensors[i] : undefined));
    if (!wT || wT.type !== TensorType.INT8) throw new Error('expected int8 weights');
    const weights = new Int8Array(graph.buffers[wT.buffer]!.data.slice().buffer);
    const bias = bT ? new Float32Array(graph.buffers[bT.buffer]!.data.slice().buffer) : null;
    act = packHybridFullyConnected(weights, bias, wT.shape[0]!, {
      weightScale: wT.quantization!.scale,
      asymmetricQuantizeInputs: opts.asymmetricQuantizeInputs,
      activation: opts.fusedActivationFunction === ActivationFunctionType.RELU ? 'relu' : 'none',
      threads: 2,
    }).run(act);
  }
  let mse = 0;
  for (let i = 0; i < x.length; i++) mse += (act[i]! - x[i]!) ** 2;
  mse /= x.length;
  // ../shared/README.md: the official runtimes give about 10.25 (float model 9.707); hybrid
  // outputs differ slightly between runtime versions, so the check is a tolerance.
  t.ok(Math.abs(mse - 10.25) < 0.1, `${windows} windows: reconstruction MSE ${mse.toFixed(4)} within 0.1 of 10.25`);
});

t.test('a packed layer writes into a given output, is reusable and keeps the path it was packed for', async (t) => {
  const rand = lcg(17);
  const [k, units] = [33, 10];
  const weights = randomInt8(units * k, rand);
  const bias = randomFloats(units, rand, 1);
  const original = capabilities().selected;
  const isas = capabilities().isa;
  selectIsa(isas[isas.length - 1]!);
  const fc = packHybridFullyConnected(weights, bias, units, { weightScale: 0.01, asymmetricQuantizeInputs: true });
  t.equal(fc.kind, 'fully-connected');
  t.same([fc.units, fc.inputSize], [units, k]);
  t.match(fc.kernel, /^qs8_gemm_/, `kernel ${fc.kernel}`);
  const packedPath = fc.path;
  for (const rows of [1, 3, 7, 0]) {
    const input = randomFloats(rows * k, rand, 4);
    const fresh = fc.run(input);
    const output = new Float32Array(rows * units).fill(NaN);
    t.equal(fc.run(input, output), output, `${rows} rows: run returns the given output`);
    t.same(Array.from(output), Array.from(fresh), `${rows} rows: same values as a new array`);
  }
  // Another path selected later does not change the packed layer, only new packs.
  selectIsa('reference');
  const input = randomFloats(2 * k, rand, 4);
  const before = fc.run(input);
  t.equal(fc.path, packedPath, 'path fixed at pack time');
  const reference = packHybridFullyConnected(weights, bias, units, { weightScale: 0.01, asymmetricQuantizeInputs: true });
  t.equal(reference.path, 'reference');
  t.same(Array.from(reference.run(input)), Array.from(before), 'every path gives the same bits');
  selectIsa(original);

  const conv = packHybridConv2d(randomInt8(4 * 3 * 3 * 2, rand), null, {
    inputShape: [2, 5, 4, 2],
    filterShape: [4, 3, 3, 2],
    padding: 'valid',
    weightScale: [0.1, 0.2, 0.3, 0.4],
  });
  t.same(conv.inputShape, [2, 5, 4, 2]);
  t.same(conv.outputShape, [2, 3, 2, 4]);
  const image = randomFloats(2 * 5 * 4 * 2, rand, 1);
  const out = new Float32Array(2 * 3 * 2 * 4);
  t.equal(conv.run(image, out), out);
  t.same(Array.from(out), Array.from(conv.run(image)), 'conv: same values into a given output');
});

t.test('bad arguments give InvalidArgumentError naming the problem', async (t) => {
  const input = new Float32Array(8);
  const weights = new Int8Array(8);
  const conv = {
    inputShape: [1, 2, 2, 2],
    filterShape: [1, 1, 1, 2],
    padding: 'valid' as const,
    weightScale: 1,
  };
  const fc = () => packHybridFullyConnected(weights, null, 2, { weightScale: 1 });
  const bmm = () => packHybridBatchMatMul(weights, { rhsShape: [4, 2], weightScale: 1 });
  const cases: [string, () => unknown, RegExp][] = [
    ['input type', () => fc().run(new Int8Array(8) as never), /Float32Array for input/],
    ['rows', () => fc().run(new Float32Array(7)), /rows \* 4 values/],
    ['output type', () => fc().run(input, new Float64Array(4) as never), /Float32Array for output/],
    ['output length', () => fc().run(input, new Float32Array(3)), /4 values for output/],
    ['weights type', () => packHybridFullyConnected(new Uint8Array(8) as never, null, 2, { weightScale: 1 }), /Int8Array for weights/],
    ['units', () => packHybridFullyConnected(weights, null, 3, { weightScale: 1 }), /units \* inputSize/],
    ['bias', () => packHybridFullyConnected(weights, new Float32Array(3), 2, { weightScale: 1 }), /2 values for bias/],
    ['scale', () => packHybridFullyConnected(weights, null, 2, { weightScale: -1 }), /weightScale\[0\]/],
    ['asymmetric', () => packHybridFullyConnected(weights, null, 2, { weightScale: 1, asymmetricQuantizeInputs: 1 as never }), /asymmetricQuantizeInputs/],
    ['threads', () => packHybridFullyConnected(weights, null, 2, { weightScale: 1, threads: 0 }), /threads/],
    ['bmm rhs', () => packHybridBatchMatMul(weights, { rhsShape: [4, 3], weightScale: 1 }), /12 rhs values/],
    ['bmm rows', () => bmm().run(new Float32Array(6)), /rows \* 4 values/],
    ['conv filter', () => packHybridConv2d(new Int8Array(3), null, conv), /filter values/],
    ['conv dilation', () => packHybridConv2d(new Int8Array(2), null, { ...conv, dilation: [1, 0] }), /dilation/],
    ['conv input', () => packHybridConv2d(new Int8Array(2), null, conv).run(new Float32Array(7)), /8 input values/],
    ['conv output', () => packHybridConv2d(new Int8Array(2), null, conv).run(input, new Float32Array(5)), /4 values for output/],
  ];
  for (const [name, fn, message] of cases) {
    t.throws(fn, { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message }, name);
    try {
      fn();
    } catch (error) {
      t.ok(error instanceof InvalidArgumentError, `${name}: typed`);
    }
  }
});

t.test('the addon itself rejects malformed calls (no JS validation in between)', async (t) => {
  const pack = native().hybridPack as (...args: unknown[]) => unknown;
  const run = native().hybridRun as (...args: unknown[]) => void;
  const info = native().hybridInfo as (...args: unknown[]) => unknown;
  const f32 = (n: number) => new Float32Array(n);
  const i8 = (n: number) => new Int8Array(n);
  const scales = new Float32Array([0.01]);
  const p = { inputSize: 4, units: 3, asymmetric: true, activationMin: -Infinity, activationMax: Infinity };
  const bp = { inputSize: 4, units: 3, asymmetric: false };
  const cp = {
    batch: 1, inputHeight: 4, inputWidth: 4, inputChannels: 2, outputChannels: 3, filterHeight: 3, filterWidth: 3,
    strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padding: 'same', activationMin: 0,
    activationMax: 6,
  };
  const fc = callNative(() => pack('fully-connected', i8(12), scales, null, p));
  const bmm = callNative(() => pack('batch-matmul', i8(12), scales, null, bp));
  const conv = callNative(() => pack('conv2d', i8(54), scales, null, cp));
  t.doesNotThrow(() => run(fc, f32(8), f32(6), 1), 'a well-formed call');
  t.doesNotThrow(() => run(fc, f32(0), f32(0), 2), 'zero rows');
  t.doesNotThrow(() => run(bmm, f32(8), f32(6), 1), 'a well-formed bmm');
  t.doesNotThrow(() => run(conv, f32(32), f32(48), 1), 'a well-formed conv');
  t.match(callNative(() => info(conv)), { kind: 'conv2d', units: 3, inputSize: 18, outputHeight: 4, outputWidth: 4, inputLength: 32, outputLength: 48 });
  t.match(callNative(() => info(fc)), { kind: 'fully-connected', units: 3, inputSize: 4, inputLength: 0, outputLength: 0 });
  const shared = new Float32Array(16);
  const calls: [string, () => unknown][] = [
    ['no arguments', () => pack()],
    ['unknown kind', () => pack('lstm', i8(12), scales, null, p)],
    ['params array', () => pack('fully-connected', i8(12), scales, null, [])],
    ['asymmetric not boolean', () => pack('fully-connected', i8(12), scales, null, { ...p, asymmetric: 1 })],
    ['NaN clamp', () => pack('fully-connected', i8(12), scales, null, { ...p, activationMin: NaN })],
    ['min > max', () => pack('fully-connected', i8(12), scales, null, { ...p, activationMin: 1, activationMax: 0 })],
    ['bias length', () => pack('fully-connected', i8(12), scales, f32(2), p)],
    ['bias Float64Array', () => pack('fully-connected', i8(12), scales, new Float64Array(3), p)],
    ['zero scale', () => pack('fully-connected', i8(12), new Float32Array([0]), null, p)],
    ['scale count', () => pack('fully-connected', i8(12), new Float32Array(2).fill(1), null, p)],
    ['zero inputSize', () => pack('fully-connected', i8(12), scales, null, { ...p, inputSize: 0 })],
    ['huge dims', () => pack('fully-connected', i8(12), scales, null, { ...p, units: 2 ** 31, inputSize: 2 ** 31 })],
    ['weights short', () => pack('batch-matmul', i8(11), scales, null, bp)],
    ['bmm bias', () => pack('batch-matmul', i8(12), scales, f32(3), bp)],
    ['conv filter too large', () => pack('conv2d', i8(150), scales, null, { ...cp, filterHeight: 5, filterWidth: 5, padding: 'valid' })],
    ['conv channels mismatch', () => pack('conv2d', i8(54), scales, null, { ...cp, inputChannels: 3 })],
    ['conv huge', () => pack('conv2d', i8(54), scales, null, { ...cp, inputHeight: 2 ** 31, inputWidth: 2 ** 31 })],
    ['conv padding', () => pack('conv2d', i8(54), scales, null, { ...cp, padding: 'full' })],
    ['run without handle', () => run({}, f32(8), f32(6), 1)],
    ['run with a foreign handle', () => run(native().qs8GemmPack(i8(12), 3, 4, null, 0, 0, new Float64Array([0.5]), 0, -128, 127), f32(8), f32(6), 1)],
    ['run input Float64Array', () => run(fc, new Float64Array(8), f32(6), 1)],
    ['run input not whole rows', () => run(fc, f32(7), f32(6), 1)],
    ['run output short', () => run(fc, f32(8), f32(5), 1)],
    ['run threads 0', () => run(fc, f32(8), f32(6), 0)],
    ['run threads fractional', () => run(fc, f32(8), f32(6), 1.5)],
    ['run overlapping views', () => run(fc, shared.subarray(0, 8), shared.subarray(4, 10), 1)],
    ['conv input short', () => run(conv, f32(31), f32(48), 1)],
    ['conv output long', () => run(conv, f32(32), f32(49), 1)],
    ['info without handle', () => info(5)],
  ];
  for (const [name, fn] of calls) {
    t.throws(() => callNative(fn), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
  }
});
