// The runtime on real models: our outputs vs the official TFLite runtime's (the WASM oracle) on
// a few real samples. int8 outputs must be bit-identical; float outputs within 1e-5 relative
// (plus 1e-6 absolute, for outputs near zero). Unsupported ops must fail at load naming the op and its index.
import { readFileSync } from 'node:fs';
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { loadModel } from '../../lib/runtime/session.js';
import { writeModel } from '../../lib/tflite/write.js';
import { BuiltinOperator, TensorType } from '../../lib/tflite/schema.js';
import { readNpy } from '../fixtures/npy.js';
import { runOracle } from '../fixtures/oracle.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

const SAMPLES = 4;
// Float tolerance. XNNPACK sums in another order than our kernels; an output near zero (sine at
// x = pi) carries the rounding of the larger partial sums, hence the absolute term.
const RTOL = 1e-5;
const ATOL = 1e-6;

type Input = Float32Array | Int8Array;

function npySamples(file: string, count: number): Float32Array[] {
  const npy = readNpy(new Uint8Array(readFileSync(sharedPath('data', file))));
  const per = npy.shape.slice(1).reduce((a, d) => a * d, 1);
  return Array.from({ length: count }, (_, s) => Float32Array.from(npy.data.subarray(s * per, (s + 1) * per) as ArrayLike<number>));
}

// Float samples per model family (the preprocessing of ../shared/README.md).
const families: Record<string, { skip: string | false; samples: () => Float32Array[] }> = {
  ic_resnet8: { skip: sharedSkip('data', 'cifar10_200_x.npy'), samples: () => npySamples('cifar10_200_x.npy', SAMPLES) },
  hello_world_sine: {
    skip: false,
    samples: () => [0.5, Math.PI, 4, 6].map((x) => Float32Array.of(x)),
  },
  ad01_fc_autoencoder: { skip: sharedSkip('data', 'toycar_196_x.npy'), samples: () => npySamples('toycar_196_x.npy', SAMPLES) },
  vww_mobilenetv1_025_96: {
    skip: sharedSkip('data', 'cifar10_200_96x96_x.npy'),
    samples: () => npySamples('cifar10_200_96x96_x.npy', SAMPLES).map((x) => x.map((v) => v / 255)),
  },
};

// The twins of each family; the autoencoder also with QUANTIZE/DEQUANTIZE at its edges.
const variants: Record<string, string[]> = { ad01_fc_autoencoder: ['float', 'int8_official', 'int8_floatio_official'] };

for (const [family, { skip, samples }] of Object.entries(families)) {
  for (const variant of variants[family] ?? ['float', 'int8_official']) {
    const name = `${family}_${variant}`;
    const file = `${name}.tflite`;
    t.test(name, { skip: sharedSkip('models', file) || skip }, async (t) => {
      const bytes = new Uint8Array(readFileSync(sharedPath('models', file)));
      const session = await loadModel(bytes);
      t.equal(session.inputs.length, 1);
      const info = session.inputs[0]!;
      const inputs: Input[] = samples().map((x) => {
        if (info.dtype === 'float32') return x;
        const scale = info.scale ?? 1;
        const zp = info.zeroPoint ?? 0;
        return Int8Array.from(x, (v) => Math.min(127, Math.max(-128, Math.round(v / scale) + zp)));
      });
      t.teardown(() => session.close());
      const oracle = await runOracle(bytes, inputs.map((x) => [x]), { runtime: 'litert' });
      for (const [s, x] of inputs.entries()) {
        const ours = await session.run([x]);
        const theirs = oracle.outputs[s]!;
        t.equal(ours.length, theirs.length, `sample ${s}: output count`);
        for (const [o, want] of theirs.entries()) {
          const got = ours[o]!;
          t.equal(got.length, want.data.length, `sample ${s} output ${o}: length`);
          if (want.dtype === 'float32') {
            const w = want.data as Float32Array;
            const g = got as Float32Array;
            // numpy.allclose's rule: |ours - theirs| <= ATOL + RTOL * |theirs|.
            let worst = 0;
            let worstAbs = 0;
            for (let i = 0; i < w.length; i++) {
              const err = Math.abs(g[i]! - w[i]!);
              worst = Math.max(worst, err / (ATOL + RTOL * Math.abs(w[i]!)));
              worstAbs = Math.max(worstAbs, err);
            }
            t.ok(worst <= 1, `sample ${s} output ${o}: max |error| ${worstAbs.toExponential(2)}, ${worst.toFixed(3)} of the allowed ${RTOL}·|y| + ${ATOL}`);
          } else {
            const w = Array.from(want.data as Int8Array);
            const g = Array.from(got as Int8Array);
            const diff = g.filter((v, i) => v !== w[i]).length;
            t.equal(diff, 0, `sample ${s} output ${o}: ${diff} of ${w.length} values differ`);
          }
        }
      }
    });
  }
}

// tinyGraph: FULLY_CONNECTED (float, RELU; W[u][i] = (4u + i - 6) / 8, bias [0.25, -0.5, 1])
// then QUANTIZE to int8 (scale 4/255, zero point -1); input shape_signature [-1, 4].
function tinyExpected(x: Float32Array): Int8Array {
  const bias = [0.25, -0.5, 1];
  const scale = Math.fround(4 / 255);
  return Int8Array.from(bias, (b, u) => {
    let acc = b;
    for (let i = 0; i < 4; i++) acc += x[i]! * ((4 * u + i - 6) / 8);
    const y = Math.max(0, acc);
    return Math.min(127, Math.max(-128, Math.round(y / scale) - 1));
  });
}

t.test('a Graph or its bytes load and run, in a worker or not; outputs are fresh arrays', async (t) => {
  for (const [model, worker] of [[tinyGraph(), true], [writeModel(tinyGraph()), true], [tinyGraph(), false], [writeModel(tinyGraph()), false]] as const) {
    const session = await loadModel(model, { threads: 1, worker });
    t.teardown(() => session.close());
    t.same(session.inputs.map((i) => [i.dtype, i.shape, i.shapeSignature]), [['float32', [1, 4], [-1, 4]]]);
    t.same(session.outputs.map((o) => [o.dtype, o.scale, o.zeroPoint]), [['int8', Math.fround(4 / 255), -1]]);
    t.same(session.steps.map((s) => s.op), ['FULLY_CONNECTED', 'QUANTIZE']);
    const a = Float32Array.of(1, 2, 3, 4);
    const b = Float32Array.of(-1, 0.5, 0, 2);
    // Started together: runs queue, each sees its own input, results do not alias the buffers.
    const [ya, yb] = await Promise.all([session.run([a]), session.run([b])]);
    t.same(Array.from(ya![0]!), Array.from(tinyExpected(a)));
    t.same(Array.from(yb![0]!), Array.from(tinyExpected(b)));
    t.not(ya![0], yb![0]);
  }
});

// The tests below run on the calling thread where the backend does not matter (starting a
// worker under tap's TypeScript loader takes about 2 s); the ones above cover both.
t.test('run validates its inputs', async (t) => {
  const session = await loadModel(tinyGraph(), { worker: false });
  t.teardown(() => session.close());
  await t.rejects(session.run([]), InvalidArgumentError);
  await t.rejects(session.run([new Int8Array(4)]), { message: /Float32Array.*inputs\[0\].*Int8Array/ });
  await t.rejects(session.run([new Float32Array(5)]), { message: /Expected a positive multiple of 4 elements .* for inputs\[0\] but received 5/ });
  await t.rejects(loadModel(tinyGraph(), { threads: -1 }), InvalidArgumentError);
  await t.rejects(loadModel(tinyGraph(), { worker: 1 as unknown as boolean }), InvalidArgumentError);
  await t.rejects(loadModel('model.tflite' as unknown as Uint8Array), InvalidArgumentError);
});

t.test('an unsupported dtype fails at load naming the op and its index', async (t) => {
  // A hybrid FULLY_CONNECTED (float input, int8 weights): not in the runtime yet.
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 2] });
  const r = b.tensor({ name: 'r', type: TensorType.FLOAT32, shape: [1, 2] });
  b.op(BuiltinOperator.RELU, [x], [r]);
  const w = b.tensor({ name: 'w', type: TensorType.INT8, shape: [2, 2], data: Int8Array.of(1, 2, 3, 4), quantization: { scale: 0.5 } });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 2] });
  b.op(BuiltinOperator.FULLY_CONNECTED, [r, w, -1], [y], { options: builtinOptions('FullyConnectedOptions') });
  b.output(y);
  for (const worker of [true, false]) {
    await t.rejects(loadModel(b.build(), { worker }), {
      name: 'UnsupportedOperatorError',
      code: 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR',
      op: 'FULLY_CONNECTED',
      index: 1,
      message: /Operator 1 of subgraph 0 is FULLY_CONNECTED with inputs \[FLOAT32, INT8, -\], outputs \[FLOAT32\]/,
    });
  }
});

t.test('a worker session leaves the event loop running during a run', { skip: sharedSkip('models', 'vww_mobilenetv1_025_96_float.tflite') }, async (t) => {
  const bytes = new Uint8Array(readFileSync(sharedPath('models', 'vww_mobilenetv1_025_96_float.tflite')));
  // Event-loop turns while one run is pending: the calling-thread backend computes in a
  // microtask (none), the worker backend leaves the loop free (some).
  const turns = async (worker: boolean): Promise<number> => {
    const session = await loadModel(bytes, { worker });
    t.teardown(() => session.close());
    let count = 0;
    let done = false;
    const tick = (): void => {
      if (done) return;
      count++;
      setImmediate(tick);
    };
    setImmediate(tick);
    await session.run([new Float32Array(96 * 96 * 3)]);
    done = true;
    return count;
  };
  t.equal(await turns(false), 0, 'calling thread: no turn during the run');
  t.ok((await turns(true)) > 0, 'worker: the loop turns during the run');
});

t.test('a closed session rejects runs', async (t) => {
  const session = await loadModel(tinyGraph());
  await session.close();
  await t.rejects(session.run([new Float32Array(4)]), { message: /closed|exited/ });
});

t.test('an unsupported op fails at load naming it', { skip: sharedSkip('models', 'mnist_lstm_float.tflite') }, async (t) => {
  const bytes = new Uint8Array(readFileSync(sharedPath('models', 'mnist_lstm_float.tflite')));
  await t.rejects(loadModel(bytes, { worker: false }), {
    name: 'UnsupportedOperatorError',
    op: 'UNIDIRECTIONAL_SEQUENCE_LSTM',
    message: /Operator \d+ of subgraph 0 is UNIDIRECTIONAL_SEQUENCE_LSTM/,
  });
});

t.test('an output tensor of the wrong size fails at load naming the op', async (t) => {
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 2] });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 3] });
  b.op(BuiltinOperator.ADD, [x, x], [y], { options: builtinOptions('AddOptions') });
  b.output(y);
  await t.rejects(loadModel(b.build(), { worker: false }), {
    name: 'ModelFormatError',
    message: /operator 0 \(ADD\) of subgraph 0: the op gives 2 elements, its output tensor holds 3/,
  });
});

// PAD -> TRANSPOSE -> CONCATENATION (with itself) -> MEAN over H, W, built in code, float and int8.
function dataMovementModel(int8: boolean): Uint8Array {
  const b = new GraphBuilder();
  const type = int8 ? TensorType.INT8 : TensorType.FLOAT32;
  const q = int8 ? { scale: 0.05, zeroPoint: 3 } : null;
  const version = int8 ? 2 : 1;
  const x = b.input({ name: 'x', type, shape: [1, 4, 4, 3], quantization: q });
  const paddings = b.tensor({ name: 'paddings', type: TensorType.INT32, shape: [4, 2], data: Int32Array.of(0, 0, 1, 1, 0, 2, 0, 0) });
  const padded = b.tensor({ name: 'padded', type, shape: [1, 6, 6, 3], quantization: q });
  b.op(BuiltinOperator.PAD, [x, paddings], [padded], { options: builtinOptions('PadOptions'), version });
  const perm = b.tensor({ name: 'perm', type: TensorType.INT32, shape: [4], data: Int32Array.of(0, 2, 1, 3) });
  const transposed = b.tensor({ name: 'transposed', type, shape: [1, 6, 6, 3], quantization: q });
  b.op(BuiltinOperator.TRANSPOSE, [padded, perm], [transposed], { options: builtinOptions('TransposeOptions'), version });
  const joined = b.tensor({ name: 'joined', type, shape: [1, 6, 6, 6], quantization: q });
  b.op(BuiltinOperator.CONCATENATION, [transposed, padded], [joined], { options: builtinOptions('ConcatenationOptions', { axis: 3 }), version });
  const axes = b.tensor({ name: 'axes', type: TensorType.INT32, shape: [2], data: Int32Array.of(1, 2) });
  const mean = b.tensor({ name: 'mean', type, shape: [1, 1, 1, 6], quantization: int8 ? { scale: 0.03, zeroPoint: -2 } : null });
  b.op(BuiltinOperator.MEAN, [joined, axes], [mean], { options: builtinOptions('ReducerOptions', { keepDims: true }), version });
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
      else t.ok(g.every((v, i) => Math.abs(v - w[i]!) <= ATOL + RTOL * Math.abs(w[i]!)), `output ${o} within tolerance`);
    }
  });
}
