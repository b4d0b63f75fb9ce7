// calibrate(): the float model runs in our runtime over streamed samples and every float32
// activation gets a range. Builder-made models with known answers, every sample form and source
// kind, progress, abort, every error, bounded memory over 10,000 samples, and ResNet-8 on real
// CIFAR-10 images (with the time it takes).
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import type { Graph } from '../../lib/ir/graph.js';
import { readNpyFile } from '../../lib/npy.js';
import { calibrate } from '../../lib/quantize/calibrate.js';
import { resolveOptions } from '../../lib/quantize/options.js';
import type { CalibrationMethod, ProgressEvent, QuantizeOptions } from '../../lib/quantize/types.js';
import { readModel } from '../../lib/tflite/read.js';
import { ActivationFunctionType, BuiltinOperator, TensorType } from '../../lib/tflite/schema.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';

const METHODS: readonly CalibrationMethod[] = ['minmax', 'ema', 'percentile', 'entropy', 'mse'];

/**
 * x [1,4] (batch dynamic) -> FULLY_CONNECTED (W = 2I, b = [0,0,0,1]) -> h -> RELU -> y.
 * So h = 2x + b and y = max(h, 0). Tensors: 0 x, 1 W, 2 b, 3 h, 4 y.
 */
function fcReluModel(options: { dynamic?: boolean; scale?: number } = {}): Graph {
  const b = new GraphBuilder();
  const scale = options.scale ?? 2;
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 4], shapeSignature: options.dynamic === false ? null : [-1, 4] });
  const w = b.tensor({ name: 'W', type: TensorType.FLOAT32, shape: [4, 4], data: Float32Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? scale : 0)) });
  const bias = b.tensor({ name: 'b', type: TensorType.FLOAT32, shape: [4], data: Float32Array.of(0, 0, 0, 1) });
  const h = b.tensor({ name: 'h', type: TensorType.FLOAT32, shape: [1, 4] });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 4] });
  b.op(BuiltinOperator.FULLY_CONNECTED, [x, w, bias], [h], { options: builtinOptions('FullyConnectedOptions') });
  b.op(BuiltinOperator.RELU, [h], [y]);
  b.output(y);
  return b.build();
}

/** a + b (two float inputs [1,3], batch dynamic) -> s. Tensors: 0 a, 1 b, 2 s. */
function addModel(): Graph {
  const b = new GraphBuilder();
  const a = b.input({ name: 'a', type: TensorType.FLOAT32, shape: [1, 3], shapeSignature: [-1, 3] });
  const c = b.input({ name: 'b', type: TensorType.FLOAT32, shape: [1, 3], shapeSignature: [-1, 3] });
  const s = b.tensor({ name: 's', type: TensorType.FLOAT32, shape: [1, 3] });
  b.op(BuiltinOperator.ADD, [a, c], [s], { options: builtinOptions('AddOptions') });
  b.output(s);
  return b.build();
}

/** GATHER of a constant float table by an int32 input: a non-float input. Tensors: 0 table, 1 idx, 2 out. */
function gatherModel(): Graph {
  const b = new GraphBuilder();
  b.tensor({ name: 'table', type: TensorType.FLOAT32, shape: [3, 2], data: Float32Array.of(-1, 1, -2, 2, -3, 3) });
  const idx = b.input({ name: 'idx', type: TensorType.INT32, shape: [2] });
  const out = b.tensor({ name: 'out', type: TensorType.FLOAT32, shape: [2, 2] });
  b.op(BuiltinOperator.GATHER, [0, idx], [out], { options: builtinOptions('GatherOptions', { axis: 0 }) });
  b.output(out);
  return b.build();
}

function opts(calibration: QuantizeOptions['calibration'], extra: Partial<QuantizeOptions> = {}): ReturnType<typeof resolveOptions> {
  return resolveOptions({ mode: 'int8', calibration, ...extra });
}

const SAMPLES: Float32Array[] = [Float32Array.of(1, -2, 3, 0.5), Float32Array.of(-1, 4, 0, -3), Float32Array.of(2, 2, 2, 2)];

t.test('minmax on a known model: inputs and every op output, ranges contain 0', async (t) => {
  const result = await calibrate(fcReluModel(), opts(SAMPLES));
  t.equal(result.samples, 3);
  t.ok(result.ms >= 0);
  t.same([...result.ranges.keys()].sort(), [0, 3, 4], 'x, h and y; no weights or bias');
  t.same(result.ranges.get(0), { min: -3, max: 4 });
  t.same(result.ranges.get(3), { min: -5, max: 8 }, 'h = 2x + b');
  t.same(result.ranges.get(4), { min: 0, max: 8 }, 'y = relu(h)');
  // Strictly positive data still gets 0 in its range.
  const positive = await calibrate(fcReluModel(), opts([Float32Array.of(1, 2, 3, 4)]));
  t.same(positive.ranges.get(0), { min: 0, max: 4 });
  t.same(positive.ranges.get(4), { min: 0, max: 9 });
});

t.test('every method gives a range for every float tensor', async (t) => {
  const samples = Array.from({ length: 20 }, (_, s) => Float32Array.from({ length: 4 }, (_, i) => Math.sin(s * 4 + i) * 3));
  for (const method of METHODS) {
    const { ranges } = await calibrate(fcReluModel(), opts(samples, { method }));
    t.same([...ranges.keys()].sort(), [0, 3, 4], method);
    for (const [i, r] of ranges) t.ok(r.min <= 0 && r.max >= 0 && r.max > r.min && Number.isFinite(r.min + r.max), `${method} tensor ${i}: [${r.min}, ${r.max}]`);
    t.equal(ranges.get(4)!.min, 0, `${method}: relu output starts at 0`);
  }
});

t.test('int16x8 mode: the clipping methods choose for the symmetric 16-bit grid', async (t) => {
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const samples = Array.from({ length: 2500 }, (_, s) => Float32Array.from({ length: 4 }, (_, i) => (s === 100 && i === 0 ? 60 : gaussian())));
  const int8 = await calibrate(fcReluModel(), opts(samples, { method: 'entropy' }));
  const int16 = await calibrate(fcReluModel(), resolveOptions({ mode: 'int16x8', calibration: samples, method: 'entropy' }));
  t.ok(int8.ranges.get(0)!.max < 30, `int8 clips the outlier: [${int8.ranges.get(0)!.min}, ${int8.ranges.get(0)!.max}]`);
  t.equal(int16.ranges.get(0)!.max, 60, 'int16 keeps it (one level per histogram bin: nothing to gain)');
});

t.test('sample forms: bare arrays, lists, Float64Array, number[], batches of rows', async (t) => {
  const expect = { min: -3, max: 4 };
  const forms: [string, unknown[]][] = [
    ['bare Float32Array', SAMPLES],
    ['[Float32Array]', SAMPLES.map((s) => [s])],
    ['Float64Array', SAMPLES.map((s) => Float64Array.from(s))],
    ['[Float64Array]', SAMPLES.map((s) => [Float64Array.from(s)])],
    ['number[]', SAMPLES.map((s) => [...s])],
    ['[number[]]', SAMPLES.map((s) => [[...s]])],
  ];
  for (const [name, samples] of forms) {
    const r = await calibrate(fcReluModel(), opts(samples as Float32Array[]));
    t.same([r.samples, r.ranges.get(0), r.ranges.get(3)], [3, expect, { min: -5, max: 8 }], name);
  }
  // One sample holding three rows of the dynamic batch: the same ranges, one sample.
  const batch = new Float32Array(12);
  SAMPLES.forEach((s, i) => batch.set(s, i * 4));
  const r = await calibrate(fcReluModel(), opts([batch]));
  t.same([r.samples, r.ranges.get(0), r.ranges.get(4)], [1, expect, { min: 0, max: 8 }], 'a batch of 3 rows');
  const asNumbers = await calibrate(fcReluModel(), opts([[...batch]]));
  t.same(asNumbers.ranges.get(3), { min: -5, max: 8 }, 'a batch as number[]');
  // ema averages per sample: the batch is one sample (its own min/max), not three.
  const ema = await calibrate(fcReluModel(), opts([batch, Float32Array.of(0, 0, 0, 0)], { method: 'ema', emaDecay: 0.5 }));
  t.same(ema.ranges.get(0), { min: -1.5, max: 2 });

  // Two inputs: one array each, the same batch multiple.
  const add = await calibrate(addModel(), opts([[Float32Array.of(1, 2, 3), Float32Array.of(-5, 0, 1)], [[0, 0, 9, 1, 1, 1], Float64Array.of(0, 0, 0, 0, 0, -20)]]));
  t.same([add.ranges.get(0), add.ranges.get(1), add.ranges.get(2)], [
    { min: 0, max: 9 },
    { min: -20, max: 1 },
    { min: -19, max: 9 },
  ]);
  // A non-float input takes its own typed array kind and gets no range.
  const gather = await calibrate(gatherModel(), opts([Int32Array.of(0, 2), [Int32Array.of(1, 1)]]));
  t.same([...gather.ranges], [[2, { min: -3, max: 3 }]]);
});

t.test('sources: arrays, generators, async iterables; progress events', async (t) => {
  function* gen(): Generator<Float32Array> {
    yield* SAMPLES;
  }
  async function* agen(): AsyncGenerator<Float32Array> {
    for (const s of SAMPLES) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      yield s;
    }
  }
  const custom = { length: 3, [Symbol.iterator]: () => SAMPLES[Symbol.iterator]() };
  for (const [name, source, total] of [
    ['array', SAMPLES, 3],
    ['generator', gen(), null],
    ['async generator', agen(), null],
    ['iterable with a length', custom, 3],
  ] as const) {
    const events: ProgressEvent[] = [];
    const r = await calibrate(fcReluModel(), opts(source, { onProgress: (e) => events.push(e) }));
    t.same(r.ranges.get(3), { min: -5, max: 8 }, name);
    t.same(
      events,
      [0, 1, 2, 3].map((done) => ({ phase: 'calibrate', done, total })),
      `${name}: progress`,
    );
  }
});

t.test('abort: before the start, and while a long stream runs', async (t) => {
  const aborted = AbortSignal.abort(new Error('stop'));
  await t.rejects(calibrate(fcReluModel(), opts(SAMPLES, { signal: aborted })), { message: 'stop' });
  const controller = new AbortController();
  let pulled = 0;
  let cleaned = false;
  function* endless(): Generator<Float32Array> {
    try {
      for (;;) {
        pulled++;
        yield Float32Array.of(pulled % 7, -1, 2, 3);
      }
    } finally {
      cleaned = true;
    }
  }
  setTimeout(() => controller.abort(), 50);
  await t.rejects(calibrate(fcReluModel(), opts(endless(), { signal: controller.signal })), { name: 'AbortError' });
  t.ok(pulled > 0, `${pulled} samples before the abort`);
  t.ok(cleaned, "the generator's finally ran");
});

t.test('errors name the sample and the input', async (t) => {
  const bad = (samples: unknown[], extra: Partial<QuantizeOptions> = {}, graph = fcReluModel()): Promise<unknown> =>
    calibrate(graph, opts(samples as Float32Array[], extra));
  await t.rejects(bad([]), new InvalidArgumentError('Expected at least one calibration sample for options.calibration but received an empty dataset'));
  function* none(): Generator<Float32Array> {
    return;
  }
  await t.rejects(calibrate(fcReluModel(), opts(none())), /empty dataset/);
  await t.rejects(bad([SAMPLES[0], [SAMPLES[0], SAMPLES[1]]]), {
    code: 'ERR_LITEQUANT_INVALID_ARGUMENT',
    message: "Expected 1 arrays (one per model input: 'x') for calibration sample 1 but received 2",
  });
  await t.rejects(bad([[Float32Array.of(1, 2, 3)]], {}, addModel()), /Expected 2 arrays \(one per model input: 'a', 'b'\) for calibration sample 0 but received 1/);
  await t.rejects(bad([Float32Array.of(1, 2, 3)], {}, addModel()), /Expected an array of 2 arrays .* for calibration sample 0 but received a Float32Array/);
  await t.rejects(bad([SAMPLES[0], Uint8Array.of(1, 2, 3, 4)]), {
    message: /^Expected a Float32Array, Float64Array or array of numbers \(the input is float32: convert integer data to the values the model expects\) for calibration sample 1, input 0 'x' but received an? Uint8Array of length 4$/,
  });
  await t.rejects(bad([[Int8Array.of(1, 2, 3, 4)]]), /sample 0, input 0 'x' but received an Int8Array/);
  await t.rejects(bad(['text']), {
    message: "Expected a typed array or an array of numbers (the model's input 'x'), or an array holding one for calibration sample 0 but received the string 'text'",
  });
  await t.rejects(bad([Float32Array.of(1, 2, 3)]), {
    message: "Expected a positive multiple of 4 elements (shape [1, 4], batch dynamic) for calibration sample 0, input 0 'x' but received 3",
  });
  await t.rejects(bad([new Float32Array(6)]), /multiple of 4 elements .* received 6/);
  await t.rejects(bad([new Float32Array(8)], {}, fcReluModel({ dynamic: false })), {
    message: "Expected 4 elements (shape [1, 4]) for calibration sample 0, input 0 'x' but received 8",
  });
  await t.rejects(bad([[new Float32Array(3), new Float32Array(6)]], {}, addModel()), /multiple of 3 elements .*, 1x as the other inputs for calibration sample 0, input 1 'b' but received 6/);
  await t.rejects(bad([Float32Array.of(0, 1)], {}, gatherModel()), /Expected an Int32Array \(the input is int32\) for calibration sample 0, input 0 'idx' but received a Float32Array/);
  await t.rejects(bad([SAMPLES[0], SAMPLES[1], SAMPLES[2], Float32Array.of(1, NaN, 3, 4)]), {
    message: "Expected finite values for calibration sample 3, input 0 'x' but received NaN at element 1",
  });
  await t.rejects(bad([[1, 2, 3, 4, 5, 6, 7, Infinity]]), {
    message: "Expected finite values for calibration sample 0, input 0 'x' but received Infinity at element 7",
  });
  await t.rejects(bad([Float64Array.of(-Infinity, 0, 0, 0)]), /sample 0, input 0 'x' but received -Infinity at element 0/);
  // A generator whose cleanup fails does not hide why calibration stopped.
  function* failingCleanup(): Generator<Float32Array> {
    try {
      yield SAMPLES[0]!;
      yield Float32Array.of(NaN, 0, 0, 0);
    } finally {
      throw new Error('cleanup failed');
    }
  }
  await t.rejects(calibrate(fcReluModel(), opts(failingCleanup())), /Expected finite values for calibration sample 1/);
  // An op the runtime cannot run: the runtime's typed error, naming the op.
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 4] });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 4] });
  b.op(BuiltinOperator.FLOOR, [x], [y]);
  b.output(y);
  await t.rejects(calibrate(b.build(), opts(SAMPLES)), { code: 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR', op: 'FLOOR', index: 0 });
  // A model that overflows float32 on a finite input.
  await t.rejects(bad([SAMPLES[0], Float32Array.of(1, 3e38, 0, 0)], {}, fcReluModel({ scale: 3 })), {
    message: "Expected finite activations for tensor 3 'h' (output of operator 0 FULLY_CONNECTED) on calibration sample 1 but received Infinity at element 1: the float model overflows on this input",
  });
});

t.test('streaming: 10,000 samples from an async generator, memory does not grow with them', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const b = new GraphBuilder();
  const x = b.input({ name: 'x', type: TensorType.FLOAT32, shape: [1, 1024], shapeSignature: [-1, 1024] });
  const y = b.tensor({ name: 'y', type: TensorType.FLOAT32, shape: [1, 1024] });
  b.op(BuiltinOperator.RELU, [x], [y]);
  b.output(y);
  const graph = b.build();
  // Array buffers are freed by a background thread after a collection: collect, pause, repeat.
  const used = async (): Promise<number> => {
    for (let k = 0; k < 3; k++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const run = async (method: CalibrationMethod, keep: Float32Array[] | null): Promise<number> => {
    let atStart = 0;
    let atEnd = 0;
    async function* stream(): AsyncGenerator<Float32Array> {
      for (let s = 0; s < 10000; s++) {
        if (s === 1000) atStart = await used();
        if (s === 9999) atEnd = await used();
        // 4 KB each: 36 MB over the 9,000 samples measured if they were kept.
        const sample = new Float32Array(1024);
        sample[s % 1024] = (s % 10) - 4.5;
        sample[(s * 7) % 1024] = s % 3;
        keep?.push(sample);
        yield sample;
      }
    }
    const started = performance.now();
    const r = await calibrate(graph, opts(stream(), { method }));
    t.equal(r.samples, 10000);
    t.comment(`${method}${keep === null ? '' : ' (samples kept by the test)'}: 10,000 samples in ${(performance.now() - started).toFixed(0)} ms`);
    return atEnd - atStart;
  };
  const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MB`;
  for (const method of ['minmax', 'percentile'] as const) {
    const growth = await run(method, null);
    t.ok(growth < 2 * 2 ** 20, `${method}: memory grew by ${mb(growth)} over 9,000 samples`);
  }
  // The measure itself: keeping the samples does show.
  const kept: Float32Array[] = [];
  const control = await run('minmax', kept);
  t.ok(control > 30 * 2 ** 20, `control: keeping every sample grows memory by ${mb(control)}`);
  kept.length = 0;
});

t.test('ResNet-8 on 100 CIFAR-10 images', { skip: sharedSkip('models', 'ic_resnet8_float.tflite') || sharedSkip('data', 'cifar10_200_x.npy') }, async (t) => {
  const graph = readModel(readFileSync(sharedPath('models', 'ic_resnet8_float.tflite')));
  const images = readNpyFile(sharedPath('data', 'cifar10_200_x.npy'));
  const pixels = 32 * 32 * 3;
  // Raw pixels 0..255 as float (../shared/README.md); streamed, one image at a time.
  function* samples(): Generator<Float32Array> {
    for (let s = 0; s < 100; s++) yield Float32Array.from(images.data.subarray(s * pixels, (s + 1) * pixels) as Uint8Array);
  }
  const subgraph = graph.subgraphs[0]!;
  const input = subgraph.inputs[0]!;
  const output = subgraph.outputs[0]!;
  const times: string[] = [];
  for (const method of METHODS) {
    const r = await calibrate(graph, opts(samples(), { method }));
    times.push(`${method} ${r.ms.toFixed(0)} ms`);
    t.equal(r.samples, 100);
    t.equal(r.ranges.size, 1 + subgraph.operators.length, `${method}: the input and every op output`);
    for (const [i, range] of r.ranges) {
      if (!(range.min <= 0 && range.max >= 0 && range.max > range.min && Number.isFinite(range.max - range.min))) {
        t.fail(`${method}: tensor ${i} range [${range.min}, ${range.max}]`);
      }
    }
    const inRange = r.ranges.get(input)!;
    const outRange = r.ranges.get(output)!;
    t.ok(inRange.min === 0 && inRange.max > 200 && inRange.max <= 255, `${method}: input [${inRange.min}, ${inRange.max}]`);
    t.ok(outRange.min === 0 && outRange.max > 0.1 && outRange.max <= 1, `${method}: softmax output [${outRange.min}, ${outRange.max}]`);
    if (method === 'minmax') t.same(inRange, { min: 0, max: 255 });
  }
  t.comment(`ResNet-8, 100 samples: ${times.join(', ')}`);
});
