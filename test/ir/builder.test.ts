// Fixture models made with the builder load and run in the official TFLite runtime
// (both WASM builds), and float ones compute what the op means.
import t from 'tap';

import { GraphBuilder, builtinOptions } from '../../lib/ir/builder.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType, BuiltinOperator, Padding, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { runOracle, tensorValues, type OracleRuntime } from '../fixtures/oracle.js';

const { FLOAT32, INT8, INT32 } = TensorType;

function ramp(n: number, scale: number, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7 + offset) * scale));
}

interface Fixture {
  name: string;
  bytes: Uint8Array;
  inputs: Float32Array[] | Int8Array[];
  /** Expected outputs for float fixtures (null: only check that it runs). */
  expected: number[] | null;
}

function fullyConnected(): Fixture {
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: FLOAT32, shape: [1, 8] });
  const wData = ramp(32, 0.5);
  const biasData = ramp(4, 0.1, 3);
  const w = b.tensor({ name: 'w', type: FLOAT32, shape: [4, 8], data: wData });
  const bias = b.tensor({ name: 'b', type: FLOAT32, shape: [4], data: biasData });
  const y = b.tensor({ name: 'y', type: FLOAT32, shape: [1, 4] });
  b.op(BuiltinOperator.FULLY_CONNECTED, [x, w, bias], [y], {
    options: builtinOptions('FullyConnectedOptions', { fusedActivationFunction: ActivationFunctionType.RELU }),
  });
  b.output(y);
  const input = ramp(8, 1, 1);
  const expected = Array.from({ length: 4 }, (_, o) => {
    let acc = biasData[o] ?? 0;
    for (let k = 0; k < 8; k++) acc += (input[k] ?? 0) * (wData[o * 8 + k] ?? 0);
    return Math.max(0, acc);
  });
  return { name: 'FULLY_CONNECTED float + RELU', bytes: writeModel(b.build()), inputs: [input], expected };
}

function conv2d(depthwise: boolean): Fixture {
  const [H, W, C] = [5, 6, 2];
  const O = depthwise ? 4 : 3; // depthwise: depth multiplier 2
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: FLOAT32, shape: [1, H, W, C] });
  const wShape = depthwise ? [1, 3, 3, O] : [O, 3, 3, C];
  const wData = ramp(wShape.reduce((a, d) => a * d, 1), 0.3);
  const biasData = ramp(O, 0.2, 2);
  const w = b.tensor({ name: 'w', type: FLOAT32, shape: wShape, data: wData });
  const bias = b.tensor({ name: 'b', type: FLOAT32, shape: [O], data: biasData });
  const y = b.tensor({ name: 'y', type: FLOAT32, shape: [1, H, W, O] });
  const options = depthwise
    ? builtinOptions('DepthwiseConv2DOptions', { padding: Padding.SAME, strideW: 1, strideH: 1, depthMultiplier: 2 })
    : builtinOptions('Conv2DOptions', { padding: Padding.SAME, strideW: 1, strideH: 1 });
  b.op(depthwise ? BuiltinOperator.DEPTHWISE_CONV_2D : BuiltinOperator.CONV_2D, [x, w, bias], [y], { options });
  b.output(y);
  const input = ramp(H * W * C, 1, 0.5);
  const expected: number[] = [];
  for (let oy = 0; oy < H; oy++) {
    for (let ox = 0; ox < W; ox++) {
      for (let o = 0; o < O; o++) {
        let acc = biasData[o] ?? 0;
        for (let ky = 0; ky < 3; ky++) {
          for (let kx = 0; kx < 3; kx++) {
            const iy = oy + ky - 1;
            const ix = ox + kx - 1;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            if (depthwise) {
              const c = Math.floor(o / 2);
              acc += (input[(iy * W + ix) * C + c] ?? 0) * (wData[(ky * 3 + kx) * O + o] ?? 0);
            } else {
              for (let c = 0; c < C; c++) {
                acc += (input[(iy * W + ix) * C + c] ?? 0) * (wData[((o * 3 + ky) * 3 + kx) * C + c] ?? 0);
              }
            }
          }
        }
        expected.push(acc);
      }
    }
  }
  return { name: depthwise ? 'DEPTHWISE_CONV_2D float' : 'CONV_2D float', bytes: writeModel(b.build()), inputs: [input], expected };
}

function addSoftmaxReshape(): Fixture {
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: FLOAT32, shape: [2, 3] });
  const cData = ramp(6, 1, 4);
  const c = b.tensor({ name: 'c', type: FLOAT32, shape: [2, 3], data: cData });
  const sum = b.tensor({ name: 'sum', type: FLOAT32, shape: [2, 3] });
  const shape = b.tensor({ name: 'shape', type: INT32, shape: [2], data: new Int32Array([1, 6]) });
  const flat = b.tensor({ name: 'flat', type: FLOAT32, shape: [1, 6] });
  const y = b.tensor({ name: 'y', type: FLOAT32, shape: [1, 6] });
  b.op(BuiltinOperator.ADD, [x, c], [sum], { options: builtinOptions('AddOptions') });
  b.op(BuiltinOperator.RESHAPE, [sum, shape], [flat], { options: builtinOptions('ReshapeOptions', { newShape: [1, 6] }) });
  b.op(BuiltinOperator.SOFTMAX, [flat], [y], { options: builtinOptions('SoftmaxOptions', { beta: 1 }) });
  b.output(y);
  const input = ramp(6, 2, 2);
  const s = Array.from(input, (v, i) => v + (cData[i] ?? 0));
  const max = Math.max(...s);
  const e = s.map((v) => Math.exp(v - max));
  const total = e.reduce((a, v) => a + v, 0);
  return { name: 'ADD, RESHAPE, SOFTMAX float', bytes: writeModel(b.build()), inputs: [input], expected: e.map((v) => v / total) };
}

function int8FullyConnected(): Fixture {
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: INT8, shape: [1, 16], quantization: { scale: 0.05, zeroPoint: -3 } });
  const w = b.tensor({
    name: 'w',
    type: INT8,
    shape: [8, 16],
    data: Int8Array.from({ length: 128 }, (_, i) => ((i * 37) % 255) - 127),
    quantization: { scale: 0.01 },
  });
  const bias = b.tensor({
    name: 'b',
    type: INT32,
    shape: [8],
    data: Int32Array.from({ length: 8 }, (_, i) => (i - 4) * 100),
    quantization: { scale: 0.05 * 0.01 },
  });
  const y = b.tensor({ name: 'y', type: INT8, shape: [1, 8], quantization: { scale: 0.2, zeroPoint: 5 } });
  b.op(BuiltinOperator.FULLY_CONNECTED, [x, w, bias], [y], { options: builtinOptions('FullyConnectedOptions'), version: 4 });
  b.output(y);
  return {
    name: 'FULLY_CONNECTED int8',
    bytes: writeModel(b.build()),
    inputs: [Int8Array.from({ length: 16 }, (_, i) => i * 9 - 70)],
    expected: null,
  };
}

const fixtures = [fullyConnected(), conv2d(false), conv2d(true), addSoftmaxReshape(), int8FullyConnected()];

for (const f of fixtures) {
  t.test(`${f.name}: round-trips and runs in the official runtime`, async (t) => {
    t.same(writeModel(readModel(f.bytes)), f.bytes, 'read → write reproduces the bytes');
    const results: Record<string, number[]> = {};
    for (const runtime of ['litert', 'tfjs-tflite'] as OracleRuntime[]) {
      const { outputs } = await runOracle(f.bytes, [f.inputs], { runtime });
      const out = outputs[0]?.[0];
      t.ok(out, `${runtime}: produced an output`);
      if (!out) continue;
      results[runtime] = tensorValues(out);
    }
    const a = results['litert'] ?? [];
    const b = results['tfjs-tflite'] ?? [];
    if (f.expected === null) {
      t.same(a, b, 'both runtimes agree bit for bit (integer model)');
    } else {
      // Float kernels of the two runtime versions differ in the last bits (~1e-7 relative).
      const gap = Math.max(...a.map((v, i) => Math.abs(v - (b[i] ?? NaN)) / Math.max(1, Math.abs(v))));
      t.ok(a.length === b.length && gap < 1e-5, `both runtimes agree (relative gap ${gap.toExponential(2)})`);
    }
    if (f.expected !== null) {
      const got = results['litert'] ?? [];
      t.equal(got.length, f.expected.length);
      const worst = Math.max(...f.expected.map((e, i) => Math.abs(e - (got[i] ?? NaN)) / Math.max(1, Math.abs(e))));
      t.ok(worst < 1e-5, `matches the op's definition (worst relative error ${worst.toExponential(2)})`);
    }
  });
}

t.test('the builder rejects inconsistent tensors and indices', async (t) => {
  const b = new GraphBuilder();
  t.throws(() => b.tensor({ name: 'w', type: FLOAT32, shape: [2, 3], data: new Float32Array(5) }), {
    code: 'ERR_LITEQUANT_INVALID_ARGUMENT',
    message: /needs 24 bytes of data but received 20/,
  });
  t.throws(() => b.tensor({ name: 'w', type: FLOAT32, shape: [2, -1] }), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' });
  const x = b.input({ name: 'x', type: FLOAT32, shape: [1] });
  t.throws(() => b.op(BuiltinOperator.RELU, [x], [7]), { message: /tensor index below 1 for operator output/ });
  t.throws(() => b.output(3), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' });
  t.throws(
    () => b.tensor({ name: 'q', type: INT8, shape: [2], quantization: { scale: [1, 2], zeroPoint: [0] } }),
    { message: /2 zero points/ },
  );
});

t.test('builtinOptions fills schema defaults', async (t) => {
  const o = builtinOptions('Conv2DOptions', { strideW: 2 });
  t.equal(o.kind, 'Conv2DOptions');
  t.equal(o.strideW, 2);
  t.equal(o.dilationWFactor, 1, 'schema default 1');
  t.equal(o.padding, Padding.SAME, 'schema default SAME (0)');
});
