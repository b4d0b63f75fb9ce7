import { readFileSync } from 'node:fs';

import { ByteBuffer } from 'flatbuffers';
import t from 'tap';

import { readNpy, writeNpy } from '../../lib/npy.js';
import type { NpyArray } from '../../lib/npy.js';
import { OracleError, loadOracle, runOracle, tensorValues } from '../fixtures/oracle.js';
import type { OracleTensor } from '../fixtures/oracle.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';

const skip = sharedSkip('models') || sharedSkip('data');

const model = (name: string): Uint8Array => new Uint8Array(readFileSync(sharedPath('models', name)));
const npy = (name: string) => readNpy(readFileSync(sharedPath('data', name)));

const argmax = (tensor: OracleTensor): number => {
  const values = tensorValues(tensor);
  return values.indexOf(Math.max(...values));
};

/** The first `count` samples of an [N, ...] u8 array, each the only input tensor of its sample. */
function samplesOf<T>(array: NpyArray, count: number, convert: (pixels: Uint8Array) => T): T[][] {
  const size = array.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = array.data as Uint8Array;
  return Array.from({ length: count }, (_, i) => [convert(data.subarray(i * size, (i + 1) * size))]);
}

t.test('npy: round trip of every dtype, header aligned to 64 bytes', async (t) => {
  const arrays = [
    { dtype: 'u1', shape: [2, 3], data: new Uint8Array([0, 1, 2, 253, 254, 255]) },
    { dtype: 'i1', shape: [3], data: new Int8Array([-128, 0, 127]) },
    { dtype: 'i2', shape: [1, 2], data: new Int16Array([-32768, 32767]) },
    { dtype: 'i4', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    { dtype: 'f4', shape: [2, 1, 1], data: new Float32Array([0.5, -1e-8]) },
    { dtype: 'f8', shape: [], data: new Float64Array([Math.PI]) },
  ] as const;
  for (const array of arrays) {
    const bytes = writeNpy(array);
    t.equal(bytes.length % 64, array.data.byteLength % 64, `${array.dtype}: data starts on a 64-byte boundary`);
    const back = readNpy(bytes);
    t.same([back.dtype, back.shape, Array.from(back.data as ArrayLike<unknown>)], [array.dtype, array.shape, Array.from(array.data)], array.dtype);
  }
  t.throws(() => readNpy(new Uint8Array(20)), /magic/);
});

t.test('ResNet-8 float in litert: CIFAR-10 top-1 at a plausible rate', { skip }, async (t) => {
  const x = npy('cifar10_200_x.npy');
  const y = npy('cifar10_200_y.npy');
  const samples = samplesOf(x, 20, (pixels) => Float32Array.from(pixels));
  const { outputs, info } = await runOracle(model('ic_resnet8_float.tflite'), samples, { runtime: 'litert' });
  t.same(info.inputs.map((i) => [i.dtype, i.shape]), [['float32', [1, 32, 32, 3]]]);
  t.same(info.outputs.map((o) => [o.dtype, o.shape]), [['float32', [1, 10]]]);
  t.equal(outputs.length, 20);
  const correct = outputs.filter((sample, i) => argmax(sample[0]!) === y.data[i]).length;
  t.comment(`float top-1 ${correct}/20 (README baseline 0.695 over 200); ${info.elapsedMs.toFixed(0)} ms for the call`);
  t.ok(correct >= 10, `top-1 ${correct}/20 is plausible`);
  for (const sample of outputs) {
    const sum = tensorValues(sample[0]!).reduce((a, b) => a + b, 0);
    t.ok(Math.abs(sum - 1) < 1e-4, 'softmax sums to 1');
  }
});

t.test('ResNet-8 int8 official: bit-identical in litert and tfjs-tflite', { skip }, async (t) => {
  const x = npy('cifar10_200_x.npy');
  const y = npy('cifar10_200_y.npy');
  // Input scale 1.0, zero point -128: q = pixel - 128.
  const samples = samplesOf(x, 20, (pixels) => Int8Array.from(pixels, (p) => p - 128));
  const bytes = model('ic_resnet8_int8_official.tflite');
  const [litert, tfjs] = await Promise.all([
    runOracle(bytes, samples, { runtime: 'litert' }),
    runOracle(bytes, samples, { runtime: 'tfjs-tflite' }),
  ]);
  t.same(litert.info.inputs[0]?.quantization, { scale: [1], zeroPoint: [-128], quantizedDimension: 0 });
  t.equal(litert.info.inputs[0]?.dtype, 'int8');
  t.equal(tfjs.info.outputs[0]?.dtype, 'int8');
  t.ok(litert.info.pinnedDims > 0, 'the -1 batch of the shape signatures was pinned');
  for (let i = 0; i < 20; i++) {
    const a = litert.outputs[i]![0]!;
    const b = tfjs.outputs[i]![0]!;
    t.ok(a.data instanceof Int8Array && b.data instanceof Int8Array, 'int8 outputs');
    t.same(tensorValues(a), tensorValues(b), `sample ${i} identical`);
  }
  const correct = litert.outputs.filter((sample, i) => argmax(sample[0]!) === y.data[i]).length;
  t.comment(`int8 top-1 ${correct}/20; litert ${litert.info.elapsedMs.toFixed(0)} ms, tfjs-tflite ${tfjs.info.elapsedMs.toFixed(0)} ms`);
  t.ok(correct >= 10, `top-1 ${correct}/20 is plausible`);
});

t.test('SignatureDef and -1 batch (hello_world sine): runs in both runtimes, which agree', { skip }, async (t) => {
  const xs = [0, 0.5, 1.5, 3, 4.5, 6];
  const float = model('hello_world_sine_float.tflite');
  const int8 = model('hello_world_sine_int8_official.tflite');
  const floatSamples = xs.map((x) => [new Float32Array([x])]);
  const int8Info = await loadOracle(int8);
  const q = int8Info.inputs[0]?.quantization;
  if (!q) throw new Error('the int8 sine model has an unquantized input');
  const scale = q.scale[0]!;
  const zeroPoint = q.zeroPoint[0]!;
  const int8Samples = xs.map((x) => [new Int8Array([Math.max(-128, Math.min(127, Math.round(x / scale) + zeroPoint))])]);
  const [litert, tfjs, litertInt8, tfjsInt8] = await Promise.all([
    runOracle(float, floatSamples, { runtime: 'litert' }),
    runOracle(float, floatSamples, { runtime: 'tfjs-tflite' }),
    runOracle(int8, int8Samples, { runtime: 'litert' }),
    runOracle(int8, int8Samples, { runtime: 'tfjs-tflite' }),
  ]);
  t.ok(litert.info.pinnedDims > 0, 'the -1 batch was pinned, so LiteRT can size the signature tensors');
  t.same(litert.info.inputs.map((i) => [i.dtype, i.shape]), [['float32', [1, 1]]]);
  xs.forEach((x, i) => {
    const a = tensorValues(litert.outputs[i]![0]!)[0]!;
    const b = tensorValues(tfjs.outputs[i]![0]!)[0]!;
    t.ok(Math.abs(a - b) < 1e-5, `float sin(${x}): litert ${a} and tfjs-tflite ${b} agree`);
    t.ok(Math.abs(a - Math.sin(x)) < 0.25, `float sin(${x}) ≈ ${a}`);
    t.same(tensorValues(litertInt8.outputs[i]![0]!), tensorValues(tfjsInt8.outputs[i]![0]!), `int8 sin(${x}) identical`);
  });
});

t.test('int16x8 SEANet models equal their golden outputs bit for bit, in both runtimes', { skip }, async (t) => {
  // The CSVs are one line each: the tensor's values in C order.
  const csv = (name: string) =>
    Int16Array.from(readFileSync(sharedPath('models', 'int16x8', name), 'utf8').trim().split(','), Number);
  for (const name of ['seanet_conv0', 'seanet_conv10', 'seanet_add0']) {
    const bytes = model(`int16x8/${name}.tflite`);
    const info = await loadOracle(bytes);
    const inputs = info.inputs.map((_, i) => csv(`${name}_input${i}_int16.csv`));
    const golden = csv(`${name}_golden_int16.csv`);
    t.ok(info.inputs.every((i) => i.dtype === 'int16' && i.quantization?.zeroPoint[0] === 0), `${name}: int16 inputs, zero point 0`);
    await Promise.all(
      (['litert', 'tfjs-tflite'] as const).map(async (runtime) => {
        const { outputs } = await runOracle(bytes, [inputs], { runtime });
        const out = outputs[0]![0]!;
        t.equal(out.dtype, 'int16');
        t.same(tensorValues(out), Array.from(golden), `${name} in ${runtime} equals the golden output`);
      }),
    );
  }
});

t.test('MNIST LSTM (variable tensors): tfjs-tflite runs it, litert refuses it cleanly', { skip }, async (t) => {
  const x = npy('mnist_2000_x.npy');
  const y = npy('mnist_2000_y.npy');
  const bytes = model('mnist_lstm_float.tflite');
  const samples = samplesOf(x, 20, (pixels) => Float32Array.from(pixels, (p) => p / 255));
  // Sample 0 again at the end: state must not leak from one sample into the next.
  samples.push(samples[0]!);
  const { outputs, info } = await runOracle(bytes, samples);
  t.equal(info.runtime, 'tfjs-tflite', 'chosen automatically for a model with variable tensors');
  const correct = outputs.slice(0, 20).filter((sample, i) => argmax(sample[0]!) === y.data[i]).length;
  t.comment(`LSTM top-1 ${correct}/20 (README baseline 0.919 over 1000); ${info.elapsedMs.toFixed(0)} ms for the call`);
  t.ok(correct >= 15, `top-1 ${correct}/20 is plausible`);
  t.same(tensorValues(outputs[20]![0]!), tensorValues(outputs[0]![0]!), 'same input, same output: state is reset');

  const error = await runOracle(bytes, samples.slice(0, 1), { runtime: 'litert' }).catch((e: unknown) => e);
  t.ok(error instanceof OracleError, 'rejects with an OracleError');
  if (error instanceof OracleError) {
    t.equal(error.stage, 'load');
    t.match(error.message, /^litert: load failed/);
    t.match(error.message, /Variable tensors not yet supported/, 'the message carries the runtime log');
  }
});

/** A copy of the model with zero_point[0] of its first per-channel INT32 tensor (a conv bias) set to 99. */
function withBiasZeroPoint99(source: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(source);
  const bb = new ByteBuffer(bytes);
  const field = (table: number, id: number) => bb.__offset(table, 4 + 2 * id);
  const vector = (table: number, id: number) => {
    const at = field(table, id);
    return at === 0 ? { start: 0, length: 0 } : { start: bb.__vector(table + at), length: bb.__vector_len(table + at) };
  };
  const root = bb.readUint32(0);
  const subgraph = bb.__indirect(vector(root, 2).start); // Model.subgraphs[0]
  const tensors = vector(subgraph, 0); // SubGraph.tensors
  for (let i = 0; i < tensors.length; i++) {
    const tensor = bb.__indirect(tensors.start + 4 * i);
    const type = field(tensor, 1) === 0 ? 0 : bb.readInt8(tensor + field(tensor, 1)); // Tensor.type
    if (type !== 2 || field(tensor, 4) === 0) continue; // INT32 with Tensor.quantization
    const zeroPoint = vector(bb.__indirect(tensor + field(tensor, 4)), 3); // QuantizationParameters.zero_point
    if (zeroPoint.length < 2) continue;
    bb.writeInt64(zeroPoint.start, 99n);
    return bytes;
  }
  throw new Error('no per-channel INT32 tensor found');
}

t.test('failures the runtimes only log (ERROR: lines while the call returns) reject', { skip }, async (t) => {
  // XNNPACK refuses a nonzero bias zero point; LiteRT's compileModel and tfjs-tflite's
  // CreateFromBufferAndOptions both return normally and only log it.
  const corrupted = withBiasZeroPoint99(model('ic_resnet8_int8_official.tflite'));
  const expectedStage = { litert: 'compile', 'tfjs-tflite': 'load' } as const;
  for (const runtime of ['litert', 'tfjs-tflite'] as const) {
    const error = await runOracle(corrupted, [[new Int8Array(3072)]], { runtime }).catch((e: unknown) => e);
    t.ok(error instanceof OracleError, `${runtime}: rejected with an OracleError`);
    if (error instanceof OracleError) {
      t.equal(error.stage, expectedStage[runtime]);
      t.match(error.message, /the runtime logged ERROR: unsupported zero-point value \(?99\)? in channel 0/);
      t.ok(error.log.some((line) => line.startsWith('ERROR:')), 'the full log is on the error');
    }
  }
});

t.test('garbage and truncated models, wrong inputs: rejected with a clear message, no hang', { skip }, async (t) => {
  let seed = 12345;
  const random = new Uint8Array(4096).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
  const resnet = model('ic_resnet8_int8_official.tflite');
  const cases: [string, Uint8Array][] = [
    ['random bytes', random],
    ['a truncated real model', resnet.subarray(0, resnet.length >> 1)],
    ['empty bytes', new Uint8Array(0)],
  ];
  const attempts = cases.flatMap(([what, bytes]) =>
    (['litert', 'tfjs-tflite'] as const).map(async (runtime) => {
      const error = await runOracle(bytes, [[new Int8Array(3072)]], { runtime, timeoutMs: 30_000 }).catch((e: unknown) => e);
      t.ok(error instanceof OracleError, `${what} in ${runtime}: rejected with an OracleError`);
      if (error instanceof OracleError) {
        t.not(error.stage, 'timeout', `${what} in ${runtime}: no hang`);
        t.match(error.message, new RegExp(`^${runtime}: `));
        t.comment(`${what} in ${runtime}: ${error.message.split('\n').slice(0, 3).join(' / ')}`);
      }
    }),
  );
  await Promise.all(attempts);

  const timedOut = await runOracle(resnet, [[new Int8Array(3072)]], { timeoutMs: 1 }).catch((e: unknown) => e);
  t.ok(timedOut instanceof OracleError && timedOut.stage === 'timeout', 'the child is killed after timeoutMs');
  t.match(String(timedOut), /timed out after 1 ms/);

  const wrongType = await runOracle(resnet, [[new Float32Array(3072)]]).catch((e: unknown) => e);
  t.ok(wrongType instanceof OracleError && wrongType.stage === 'input', 'a float32 input to an int8 model is refused');
  t.match(String(wrongType), /Expected an Int8Array of 3072 int8 elements \(shape \[1, 32, 32, 3\]\) for sample 0 input 0/);
  const wrongCount = await runOracle(resnet, [[new Int8Array(3072)], []]).catch((e: unknown) => e);
  t.match(String(wrongCount), /Expected an array of 1 input tensor\(s\) for sample 1/);
});
