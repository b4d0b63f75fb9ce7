// The session API: loading a Graph or its bytes, running in a worker or on the calling thread,
// input validation, load-time errors naming the op, closing. Whole-model comparisons with the
// official runtime are in models.test.ts, per-op ones in ops.test.ts.
import { readFileSync } from 'node:fs';
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { loadModel } from '../../lib/runtime/session.js';
import { writeModel } from '../../lib/tflite/write.js';
import { BuiltinOperator, TensorType } from '../../lib/tflite/schema.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

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
    t.same(Array.from(ya![0]! as Int8Array), Array.from(tinyExpected(a)));
    t.same(Array.from(yb![0]! as Int8Array), Array.from(tinyExpected(b)));
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
  // FULLY_CONNECTED with a float input and int16 weights: TFLite has no such kernel either.
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 2] });
  const r = b.tensor({ name: 'r', type: TensorType.FLOAT32, shape: [1, 2] });
  b.op(BuiltinOperator.RELU, [x], [r]);
  const w = b.tensor({ name: 'w', type: TensorType.INT16, shape: [2, 2], data: Int16Array.of(1, 2, 3, 4), quantization: { scale: 0.5 } });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 2] });
  b.op(BuiltinOperator.FULLY_CONNECTED, [r, w, -1], [y], { options: builtinOptions('FullyConnectedOptions') });
  b.output(y);
  for (const worker of [true, false]) {
    await t.rejects(loadModel(b.build(), { worker }), {
      name: 'UnsupportedOperatorError',
      code: 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR',
      op: 'FULLY_CONNECTED',
      index: 1,
      message: /Operator 1 of subgraph 0 is FULLY_CONNECTED with inputs \[FLOAT32, INT16, -\], outputs \[FLOAT32\]/,
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

t.test('an unsupported op fails at load naming it', async (t) => {
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 4] });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 4] });
  b.op(BuiltinOperator.BIDIRECTIONAL_SEQUENCE_RNN, [x], [y]);
  b.output(y);
  await t.rejects(loadModel(b.build(), { worker: false }), {
    name: 'UnsupportedOperatorError',
    op: 'BIDIRECTIONAL_SEQUENCE_RNN',
    message: /Operator 0 of subgraph 0 is BIDIRECTIONAL_SEQUENCE_RNN/,
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
