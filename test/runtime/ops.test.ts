// The runtime's op compilers (lib/runtime/ops) against the official runtime, one op per case:
// all the cases of a suite are one builder-made model (test/fixtures/op-suite.ts), loaded once in
// our runtime and run once per official runtime. int8/int16 outputs must be bit-identical,
// float outputs within 1e-6 + rtol·|y|. Where the two official runtimes compute differently,
// a case says which one it matches (`against`).
import t, { type Test } from 'tap';

import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { loadModel } from '../../lib/runtime/session.js';
import { ActivationFunctionType as Act, BuiltinOperator as Op, Padding, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { runOracle, type OracleRuntime } from '../fixtures/oracle.js';
import { f32, i32, q, randF32, randInt16, randInt8, suiteModel, type OpCase, type TensorArg, type TensorData } from '../fixtures/op-suite.js';

const BOTH: readonly OracleRuntime[] = ['litert', 'tfjs-tflite'];

interface RuntimeCase {
  readonly name: string;
  readonly op: Op;
  readonly inputs: readonly (TensorArg | null)[];
  readonly outputs: readonly TensorArg[];
  readonly spec?: OpCase['spec'];
  /** One array per graph input (the inputs without data), per sample. */
  readonly samples: readonly (readonly TensorData[])[];
  /** Relative tolerance of float outputs (default 1e-5); int outputs are always exact. */
  readonly rtol?: number;
  /**
   * Per runtime, a tolerance relative to the largest |y| of the output instead (hybrid layers,
   * where the runtime quantizes the rows by another rule than ours).
   */
  readonly hybridTolerance?: Partial<Record<OracleRuntime, number>>;
  /** The official runtimes this case matches (default both). */
  readonly against?: readonly OracleRuntime[];
  /** The implementation our runtime must pick for the op (checked against Session.steps). */
  readonly impl?: RegExp;
}

const ATOL = 1e-6;

function count(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** Builds the suite's model for one runtime, runs it in ours and in the oracle, compares every output. */
async function checkCases(t: Test, title: string, cases: readonly RuntimeCase[]): Promise<void> {
  for (const runtime of BOTH) {
    const selected = cases.filter((c) => (c.against ?? BOTH).includes(runtime));
    if (selected.length === 0) continue;
    const opCases: OpCase[] = selected.map((c) => ({ ...c, expected: () => new Float32Array(0) }));
    const { bytes, built, sampleCount } = suiteModel(opCases);
    const sampleOf = (c: RuntimeCase, s: number) => c.samples[Math.min(s, c.samples.length - 1)] ?? [];
    const samples = Array.from({ length: sampleCount }, (_, s) => selected.flatMap((c) => [...sampleOf(c, s)]));
    const { outputs } = await runOracle(bytes, samples, { runtime });
    const session = await loadModel(bytes, { worker: false });
    const ours: (readonly ArrayLike<number | bigint>[])[] = [];
    for (const sample of samples) ours.push((await session.run(sample as never)) as ArrayLike<number | bigint>[]);
    await session.close();
    await t.test(`${title} [${runtime}]`, async (tt) => {
      built.forEach(({ outputOffset, outputCount }, k) => {
        const c = selected[k]!;
        if (c.impl !== undefined) tt.match(session.steps[k]?.impl, c.impl, `${c.name}: implementation`);
        let bad = 0;
        let total = 0;
        let first = '';
        let worst = 0;
        for (let s = 0; s < sampleCount; s++) {
          for (let o = 0; o < outputCount; o++) {
            const want = outputs[s]![outputOffset + o]!;
            const got = ours[s]![outputOffset + o]!;
            total += want.data.length;
            if (got.length !== want.data.length) {
              bad += want.data.length;
              first ||= `sample ${s} output ${o}: ${got.length} values, the oracle's ${want.data.length}`;
              continue;
            }
            const scaleTol = c.hybridTolerance?.[runtime];
            const maxY = scaleTol === undefined ? 0 : Math.max(...Array.from(want.data as Float32Array, Math.abs));
            const bound = (w: number) => (scaleTol === undefined ? ATOL + (c.rtol ?? 1e-5) * Math.abs(w) : scaleTol * maxY);
            for (let i = 0; i < got.length; i++) {
              const w = Number(want.data[i]);
              const g = Number(got[i]);
              const ok = want.dtype === 'float32' ? Math.abs(g - w) <= bound(w) : g === w;
              if (want.dtype === 'float32') worst = Math.max(worst, Math.abs(g - w) / bound(w));
              if (!ok) {
                bad++;
                first ||= `sample ${s} output ${o} [${i}]: official ${w}, ours ${g}`;
              }
            }
          }
        }
        const how = outputs[0]![outputOffset]!.dtype === 'float32' ? `within tolerance (worst ${worst.toFixed(3)} of it)` : 'bit for bit';
        tt.equal(bad, 0, bad === 0 ? `${c.name}: ${total} values equal ${how}` : `${c.name}: ${bad} of ${total} differ (first: ${first})`);
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Data movement and element-wise: SLICE, GATHER, SELECT_V2, PADV2, SQUARED_DIFFERENCE, RSQRT.

const X = [2, 3, 4, 5];
type Dtype = 'float32' | 'int8' | 'int16';
const arg = (dtype: Dtype, shape: readonly number[], scale = 0.05, zeroPoint = 0): TensorArg =>
  dtype === 'float32' ? f32(shape) : q(dtype, shape, scale, dtype === 'int16' ? 0 : zeroPoint);
const gen = (dtype: Dtype, n: number, seed: number): TensorData =>
  dtype === 'float32' ? randF32(n, seed) : dtype === 'int8' ? randInt8(n, seed) : randInt16(n, seed);

const moveCases: RuntimeCase[] = [];
for (const dtype of ['float32', 'int8', 'int16'] as const) {
  moveCases.push({
    name: `SLICE ${dtype}`,
    op: Op.SLICE,
    inputs: [arg(dtype, X), i32([1, 0, 1, 2]), i32([1, 2, -1, 3])],
    outputs: [arg(dtype, [1, 2, 3, 3])],
    samples: [[gen(dtype, count(X), 1)], [gen(dtype, count(X), 2)]],
  });
  moveCases.push({
    name: `GATHER ${dtype} axis 2, constant indices`,
    op: Op.GATHER,
    inputs: [arg(dtype, X), i32([3, 0, 1], [3])],
    outputs: [arg(dtype, [2, 3, 3, 5])],
    spec: { options: builtinOptions('GatherOptions', { axis: 2 }) },
    samples: [[gen(dtype, count(X), 3)]],
  });
  moveCases.push({
    name: `GATHER ${dtype} axis 2 batch_dims 1, indices an input`,
    op: Op.GATHER,
    inputs: [arg(dtype, X), { dtype: 'int32', shape: [2, 2] }],
    outputs: [arg(dtype, [2, 3, 2, 5])],
    spec: { options: builtinOptions('GatherOptions', { axis: 2, batchDims: 1 }) },
    samples: [[gen(dtype, count(X), 4), Int32Array.of(3, 1, 0, 2)], [gen(dtype, count(X), 5), Int32Array.of(2, 2, 1, 3)]],
  });
  moveCases.push({
    name: `SELECT_V2 ${dtype}, broadcast condition and y`,
    op: Op.SELECT_V2,
    inputs: [{ dtype: 'bool', shape: [3, 1] }, arg(dtype, [2, 3, 4]), arg(dtype, [4])],
    outputs: [arg(dtype, [2, 3, 4])],
    samples: [[Uint8Array.of(1, 0, 1), gen(dtype, 24, 6), gen(dtype, 4, 7)]],
  });
  // PADV2's constant is the raw value: for int8 it is already quantized (here not the zero point).
  const constant = dtype === 'float32' ? Float32Array.of(1.5) : dtype === 'int8' ? Int8Array.of(-3) : Int16Array.of(77);
  moveCases.push({
    name: `PADV2 ${dtype}`,
    op: Op.PADV2,
    inputs: [arg(dtype, [1, 3, 4, 2], 0.05, 5), i32([0, 0, 1, 2, 0, 1, 1, 0], [4, 2]), { ...arg(dtype, [], 0.05, 5), data: constant }],
    outputs: [arg(dtype, [1, 6, 5, 3], 0.05, 5)],
    samples: [[gen(dtype, 24, 8)]],
  });
}
moveCases.push(
  {
    name: 'SQUARED_DIFFERENCE float32, broadcast',
    op: Op.SQUARED_DIFFERENCE,
    inputs: [f32([2, 3, 4]), f32([3, 1])],
    outputs: [f32([2, 3, 4])],
    samples: [[randF32(24, 9), randF32(3, 10)]],
  },
  {
    name: 'SQUARED_DIFFERENCE int8, broadcast',
    op: Op.SQUARED_DIFFERENCE,
    inputs: [q('int8', [2, 3, 4], 0.04, -3), q('int8', [4], 0.05, 7)],
    outputs: [q('int8', [2, 3, 4], 0.1, -128)],
    samples: [[randInt8(24, 11), randInt8(4, 12)]],
  },
  {
    name: 'RSQRT float32',
    op: Op.RSQRT,
    inputs: [f32([64])],
    outputs: [f32([64])],
    samples: [[randF32(64, 13, 0.01, 50)]],
  },
  {
    name: 'RSQRT int8',
    op: Op.RSQRT,
    inputs: [q('int8', [64], 0.1, -20)],
    outputs: [q('int8', [64], 0.02, -100)],
    samples: [[randInt8(64, 14, -20, 127)]],
  },
  {
    name: 'RSQRT int16 (LiteRT only: tfjs-tflite has no int16 kernel)',
    op: Op.RSQRT,
    inputs: [q('int16', [64], 0.001)],
    outputs: [q('int16', [64], 0.0005)],
    samples: [[randInt16(64, 15, 0, 32767)]],
    spec: { version: 3 },
    against: ['litert'],
  },
);

// ---------------------------------------------------------------------------------------------
// BATCH_MATMUL: float32, int8, int16, hybrid; adj_x/adj_y; batch dimensions broadcast.

const bmmOptions = (adjX = false, adjY = false, asymmetricQuantizeInputs = false) => ({
  options: builtinOptions('BatchMatMulOptions', { adjX, adjY, asymmetricQuantizeInputs }),
});
const rhsConst = (dtype: Dtype, shape: readonly number[], seed: number, scale = 0.02, zeroPoint = 0): TensorArg => ({
  ...arg(dtype, shape, scale, zeroPoint),
  data: dtype === 'float32' ? randF32(count(shape), seed, -1, 1) : dtype === 'int8' ? randInt8(count(shape), seed, -127, 127) : randInt16(count(shape), seed),
});

const matmulCases: RuntimeCase[] = [
  {
    name: 'BATCH_MATMUL float32, two activations, lhs batch broadcast',
    op: Op.BATCH_MATMUL,
    inputs: [f32([1, 3, 4, 5]), f32([2, 3, 5, 6])],
    outputs: [f32([2, 3, 4, 6])],
    spec: bmmOptions(),
    samples: [[randF32(60, 20), randF32(180, 21)]],
    impl: /^reference$/,
  },
  {
    name: 'BATCH_MATMUL float32, two activations, adj_x and adj_y, ranks 4 and 3',
    op: Op.BATCH_MATMUL,
    inputs: [f32([2, 1, 5, 4]), f32([3, 6, 5])],
    outputs: [f32([2, 3, 4, 6])],
    spec: bmmOptions(true, true),
    samples: [[randF32(40, 22), randF32(90, 23)]],
  },
  {
    name: 'BATCH_MATMUL float32, constant 2-D rhs (one native call)',
    op: Op.BATCH_MATMUL,
    inputs: [f32([2, 3, 4, 5]), rhsConst('float32', [5, 6], 24)],
    outputs: [f32([2, 3, 4, 6])],
    spec: bmmOptions(),
    samples: [[randF32(120, 25)]],
    impl: /native f32/,
  },
  {
    name: 'BATCH_MATMUL float32, constant rhs with batches, adj_x, rhs batch broadcast',
    op: Op.BATCH_MATMUL,
    inputs: [f32([2, 1, 5, 4]), rhsConst('float32', [3, 5, 6], 26)],
    outputs: [f32([2, 3, 4, 6])],
    spec: bmmOptions(true, false),
    samples: [[randF32(40, 27)]],
    impl: /native f32/,
  },
  {
    name: 'BATCH_MATMUL float32, constant rhs, adj_y',
    op: Op.BATCH_MATMUL,
    inputs: [f32([3, 4, 5]), rhsConst('float32', [6, 5], 28)],
    outputs: [f32([3, 4, 6])],
    spec: bmmOptions(false, true),
    samples: [[randF32(60, 29)]],
    impl: /native f32/,
  },
  {
    name: 'BATCH_MATMUL int8, two activations with zero points, broadcast',
    op: Op.BATCH_MATMUL,
    inputs: [q('int8', [2, 1, 4, 40], 0.05, 3), q('int8', [3, 40, 6], 0.03, -7)],
    outputs: [q('int8', [2, 3, 4, 6], 0.4, -2)],
    spec: bmmOptions(),
    samples: [[randInt8(320, 30), randInt8(720, 31)], [randInt8(320, 32), randInt8(720, 33)]],
    impl: /^reference$/,
  },
  {
    name: 'BATCH_MATMUL int8, constant rhs (native, XNNPACK requantization, as LiteRT)',
    op: Op.BATCH_MATMUL,
    inputs: [q('int8', [3, 8, 40], 0.05, 3), rhsConst('int8', [40, 24], 34, 0.01)],
    outputs: [q('int8', [3, 8, 24], 0.15, -5)],
    spec: bmmOptions(),
    samples: [[randInt8(960, 35)], [randInt8(960, 36)]],
    against: ['litert'],
    impl: /native int8/,
  },
  {
    name: 'BATCH_MATMUL int8, constant rhs with batches, adj_x and adj_y',
    op: Op.BATCH_MATMUL,
    inputs: [q('int8', [1, 40, 8], 0.05, -1), rhsConst('int8', [2, 24, 40], 37, 0.01)],
    outputs: [q('int8', [2, 8, 24], 0.15, 4)],
    spec: bmmOptions(true, true),
    samples: [[randInt8(320, 38)]],
    against: ['litert'],
    impl: /native int8/,
  },
  {
    name: 'BATCH_MATMUL int16, two activations',
    op: Op.BATCH_MATMUL,
    inputs: [q('int16', [2, 4, 40], 0.0005), q('int16', [2, 40, 6], 0.0003)],
    outputs: [q('int16', [2, 4, 6], 0.002)],
    spec: bmmOptions(),
    samples: [[randInt16(320, 39), randInt16(480, 40)]],
  },
  {
    name: 'BATCH_MATMUL int16, constant rhs, adj_y',
    op: Op.BATCH_MATMUL,
    inputs: [q('int16', [3, 4, 40], 0.0005), rhsConst('int16', [6, 40], 41, 0.0003)],
    outputs: [q('int16', [3, 4, 6], 0.003)],
    spec: bmmOptions(false, true),
    samples: [[randInt16(480, 42)]],
  },
];

// Hybrid layers: tfjs-tflite runs TFLite's builtin kernels, which ours reproduce (to float
// rounding; in practice bit for bit). LiteRT's XNNPACK quantizes every row asymmetrically with
// its own rounding, whatever asymmetric_quantize_inputs says: compared within 2 % of the output's
// largest |y| (the row quantization step is 1/255 to 1/127 of the row's range).
const HYBRID_LITERT = { litert: 0.02 };
for (const asymmetric of [false, true]) {
  matmulCases.push({
    name: `BATCH_MATMUL hybrid, ${asymmetric ? 'asymmetric' : 'symmetric'} rows`,
    op: Op.BATCH_MATMUL,
    inputs: [f32([2, 4, 40]), rhsConst('int8', [40, 12], 43, 0.01)],
    outputs: [f32([2, 4, 12])],
    spec: bmmOptions(false, false, asymmetric),
    samples: [[randF32(320, 44, -1, 3)], [randF32(320, 45)]],
    hybridTolerance: HYBRID_LITERT,
    impl: /native hybrid/,
  });
}

// ---------------------------------------------------------------------------------------------
// Hybrid FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D and int16x8 layers.

const hybridCases: RuntimeCase[] = [];
for (const asymmetric of [false, true]) {
  for (const perChannel of [false, true]) {
    hybridCases.push({
      name: `FULLY_CONNECTED hybrid, ${perChannel ? 'per-channel' : 'per-tensor'}, ${asymmetric ? 'asymmetric' : 'symmetric'} rows, RELU`,
      op: Op.FULLY_CONNECTED,
      inputs: [
        f32([3, 64]),
        { dtype: 'int8', shape: [16, 64], scale: perChannel ? Array.from({ length: 16 }, (_, c) => 0.01 + c * 0.001) : 0.013, data: randInt8(1024, 50, -127, 127) },
        { dtype: 'float32', shape: [16], data: randF32(16, 51, -0.5, 0.5) },
      ],
      outputs: [f32([3, 16])],
      spec: { options: builtinOptions('FullyConnectedOptions', { fusedActivationFunction: Act.RELU, asymmetricQuantizeInputs: asymmetric }), version: 9 },
      samples: [[randF32(192, 52, -2, 5)], [randF32(192, 53)]],
      hybridTolerance: HYBRID_LITERT,
      // tfjs-tflite (2023) predates per-channel hybrid FULLY_CONNECTED: its outputs are not the
      // layer's (0.31 where the float layer gives 19.4).
      ...(perChannel ? { against: ['litert'] as const } : {}),
      impl: /native hybrid/,
    });
  }
}
for (const perChannel of [false, true]) {
  hybridCases.push({
    name: `CONV_2D hybrid, ${perChannel ? 'per-channel (asymmetric images)' : 'per-tensor (symmetric images)'}`,
    op: Op.CONV_2D,
    inputs: [
      f32([2, 9, 9, 4]),
      { dtype: 'int8', shape: [8, 3, 3, 4], scale: perChannel ? Array.from({ length: 8 }, (_, c) => 0.01 + c * 0.002) : 0.015, data: randInt8(288, 54, -127, 127) },
      { dtype: 'float32', shape: [8], data: randF32(8, 55, -0.5, 0.5) },
    ],
    outputs: [f32([2, 5, 5, 8])],
    spec: { options: builtinOptions('Conv2DOptions', { padding: Padding.SAME, strideH: 2, strideW: 2, fusedActivationFunction: Act.RELU6 }), version: 2 },
    samples: [[randF32(648, 56, -1, 2)]],
    hybridTolerance: HYBRID_LITERT,
    impl: /native hybrid conv2d/,
  });
}
hybridCases.push({
  name: 'DEPTHWISE_CONV_2D hybrid (weights dequantized at load)',
  op: Op.DEPTHWISE_CONV_2D,
  inputs: [
    f32([1, 9, 9, 4]),
    { dtype: 'int8', shape: [1, 3, 3, 8], scale: Array.from({ length: 8 }, (_, c) => 0.01 + c * 0.002), quantizedDimension: 3, data: randInt8(72, 57, -127, 127) },
    { dtype: 'float32', shape: [8], data: randF32(8, 58, -0.5, 0.5) },
  ],
  outputs: [f32([1, 9, 9, 8])],
  spec: { options: builtinOptions('DepthwiseConv2DOptions', { padding: Padding.SAME, strideH: 1, strideW: 1, depthMultiplier: 2 }), version: 6 },
  samples: [[randF32(324, 59, -1, 2)]],
  // Float math on dequantized weights: no row quantization at all.
  hybridTolerance: { litert: 0.02, 'tfjs-tflite': 0.02 },
  impl: /dequantized at load/,
});

const int16Cases: RuntimeCase[] = [];
function int16Layer(kind: 'FULLY_CONNECTED' | 'CONV_2D' | 'DEPTHWISE_CONV_2D', biasBits: 32 | 64, against: readonly OracleRuntime[], impl: RegExp): RuntimeCase {
  const channels = 16;
  const inShape = kind === 'FULLY_CONNECTED' ? [8, 100] : [1, 12, 12, 8];
  const wShape = kind === 'FULLY_CONNECTED' ? [channels, 100] : kind === 'CONV_2D' ? [channels, 3, 3, 8] : [1, 3, 3, channels];
  const outShape = kind === 'FULLY_CONNECTED' ? [8, channels] : [1, 6, 6, channels];
  const sIn = 0.0007;
  const scales = Array.from({ length: channels }, (_, c) => 0.0011 + c * 0.0003);
  const biasValues = Array.from({ length: channels }, (_, c) => ((c * 1237) % 5000) - 2500);
  const geometry = { padding: Padding.SAME, strideH: 2, strideW: 2, fusedActivationFunction: Act.RELU };
  const options =
    kind === 'FULLY_CONNECTED'
      ? builtinOptions('FullyConnectedOptions', { fusedActivationFunction: Act.RELU })
      : kind === 'CONV_2D'
        ? builtinOptions('Conv2DOptions', geometry)
        : builtinOptions('DepthwiseConv2DOptions', { ...geometry, depthMultiplier: 2 });
  const op = kind === 'FULLY_CONNECTED' ? Op.FULLY_CONNECTED : kind === 'CONV_2D' ? Op.CONV_2D : Op.DEPTHWISE_CONV_2D;
  return {
    name: `${kind} int16x8, per-channel, int${biasBits} bias, RELU`,
    op,
    inputs: [
      q('int16', inShape, sIn),
      { dtype: 'int8', shape: wShape, scale: scales, zeroPoint: 0, quantizedDimension: kind === 'DEPTHWISE_CONV_2D' ? 3 : 0, data: randInt8(count(wShape), 60, -127, 127) },
      {
        dtype: biasBits === 64 ? 'int64' : 'int32',
        shape: [channels],
        scale: scales.map((s) => Math.fround(sIn * s)),
        zeroPoint: 0,
        data: biasBits === 64 ? BigInt64Array.from(biasValues.map(BigInt)) : Int32Array.from(biasValues),
      },
    ],
    outputs: [q('int16', outShape, 0.004)],
    spec: { options, version: kind === 'FULLY_CONNECTED' ? 7 : 4 },
    samples: [[randInt16(count(inShape), 61, -9000, 9000)], [randInt16(count(inShape), 62)]],
    against,
    impl,
  };
}
int16Cases.push(
  int16Layer('CONV_2D', 64, BOTH, /native int16x8 conv2d/),
  int16Layer('DEPTHWISE_CONV_2D', 64, BOTH, /native int16x8 depthwise/),
  // LiteRT requantizes FULLY_CONNECTED int16x8 in double (ours); tfjs-tflite (2023) in fixed point.
  int16Layer('FULLY_CONNECTED', 64, ['litert'], /native int16x8 fully-connected/),
  int16Layer('FULLY_CONNECTED', 32, BOTH, /reference int16x8 fully-connected \(int32 bias\)/),
  // LiteRT 2.5.3's int16x8 CONV_2D with an int32 bias is broken (see reference-ops/README.md).
  int16Layer('CONV_2D', 32, ['tfjs-tflite'], /reference int16x8 conv2d \(int32 bias\)/),
);

t.test('SLICE, GATHER, SELECT_V2, PADV2, SQUARED_DIFFERENCE, RSQRT', (t) => checkCases(t, 'data movement and element-wise', moveCases));
t.test('BATCH_MATMUL', (t) => checkCases(t, 'batch matmul', matmulCases));
t.test('int16x8 FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D', (t) => checkCases(t, 'int16x8 layers', int16Cases));
t.test('hybrid FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D', (t) => checkCases(t, 'hybrid layers', hybridCases));

// ---------------------------------------------------------------------------------------------
// A small graph of data-movement ops, chained.

// PAD -> TRANSPOSE -> CONCATENATION (with itself) -> MEAN over H, W, built in code, float and int8.
function dataMovementModel(int8: boolean): Uint8Array {
  const b = new GraphBuilder();
  const type = int8 ? TensorType.INT8 : TensorType.FLOAT32;
  const q = int8 ? { scale: 0.05, zeroPoint: 3 } : null;
  const version = int8 ? 2 : 1;
  const x = b.input({ name: 'x', type, shape: [1, 4, 4, 3], quantization: q });
  const paddings = b.tensor({ name: 'paddings', type: TensorType.INT32, shape: [4, 2], data: Int32Array.of(0, 0, 1, 1, 0, 2, 0, 0) });
  const padded = b.tensor({ name: 'padded', type, shape: [1, 6, 6, 3], quantization: q });
  b.op(Op.PAD, [x, paddings], [padded], { options: builtinOptions('PadOptions'), version });
  const perm = b.tensor({ name: 'perm', type: TensorType.INT32, shape: [4], data: Int32Array.of(0, 2, 1, 3) });
  const transposed = b.tensor({ name: 'transposed', type, shape: [1, 6, 6, 3], quantization: q });
  b.op(Op.TRANSPOSE, [padded, perm], [transposed], { options: builtinOptions('TransposeOptions'), version });
  const joined = b.tensor({ name: 'joined', type, shape: [1, 6, 6, 6], quantization: q });
  b.op(Op.CONCATENATION, [transposed, padded], [joined], { options: builtinOptions('ConcatenationOptions', { axis: 3 }), version });
  const axes = b.tensor({ name: 'axes', type: TensorType.INT32, shape: [2], data: Int32Array.of(1, 2) });
  const mean = b.tensor({ name: 'mean', type, shape: [1, 1, 1, 6], quantization: int8 ? { scale: 0.03, zeroPoint: -2 } : null });
  b.op(Op.MEAN, [joined, axes], [mean], { options: builtinOptions('ReducerOptions', { keepDims: true }), version });
  b.output(joined);
  b.output(mean);
  return writeModel(b.build());
}

for (const int8 of [false, true]) {
  t.test(`PAD, TRANSPOSE, CONCATENATION, MEAN (${int8 ? 'int8' : 'float32'}) equal the oracle`, async (t) => {
    const model = dataMovementModel(int8);
    const session = await loadModel(model, { worker: false });
    const x = int8
      ? Int8Array.from({ length: 48 }, (_, i) => ((i * 37) % 256) - 128)
      : Float32Array.from({ length: 48 }, (_, i) => Math.sin(i) * 3);
    const ours = await session.run([x]);
    const theirs = (await runOracle(model, [[x]], { runtime: 'litert' })).outputs[0]!;
    t.equal(ours.length, 2);
    for (const [o, want] of theirs.entries()) {
      const w = Array.from(want.data as Float32Array);
      const g = Array.from(ours[o] as Float32Array);
      if (int8 || o === 0) t.same(g, w, `output ${o} equal`);
      else t.ok(g.every((v, i) => Math.abs(v - w[i]!) <= ATOL + 1e-5 * Math.abs(w[i]!)), `output ${o} within tolerance`);
    }
  });
}
