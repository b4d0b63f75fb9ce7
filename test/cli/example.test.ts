// `litequant quantize` without a model (or with --example): the example model the project trains
// and ships in examples/mnist/ is quantized through the CLI (spawned, as users run it, from an
// empty directory, with LITEQUANT_SHARED pointing nowhere: nothing from ../shared is needed).
// int8 keeps the accuracy within 1 point of float on the 500 held-back digits; the written file
// loads in our runtime and in the official one (LiteRT, the WASM oracle), whose outputs equal ours
// bit for bit; the shipped float model is as accurate as its README and train.json say; the
// options that describe your own data are refused; the default output is replaced, and said so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { EXAMPLE_DIR, EXAMPLE_INPUT_SCALE, evaluateExample, exampleFiles, type ExampleResult } from '../../lib/cli/example.js';
import { packageRoot } from '../../lib/native/loader.js';
import { readNpyFile } from '../../lib/npy.js';
import { loadModel } from '../../lib/runtime/session.js';
import { readModel } from '../../lib/tflite/read.js';
import { TensorType } from '../../lib/tflite/schema.js';
import { runOracle } from '../fixtures/oracle.js';

/** The float model's accuracy on the held-back digits, as the README and the report state it. */
const REPORTED_FLOAT_ACCURACY = 0.976;

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'litequant-example-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function litequant(args: string[], cwd = work) {
  return spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, LITEQUANT_SHARED: join(work, 'no-shared-here') },
  });
}

const files = exampleFiles();
const info = JSON.parse(readFileSync(join(EXAMPLE_DIR, 'train.json'), 'utf8')) as { testAccuracy: { tfjs: number; tflite: number }; sha256: string };

t.test('the shipped files: a float model and uint8 digits, small', async (t) => {
  const graph = readModel(new Uint8Array(readFileSync(files.model)));
  const sub = graph.subgraphs[0]!;
  t.same(
    sub.inputs.map((i) => sub.tensors[i]!.type),
    [TensorType.FLOAT32],
    'float input',
  );
  t.same(sub.tensors[sub.inputs[0]!]!.shape, [1, 28, 28, 1]);
  const calibration = readNpyFile(files.calibration);
  const testX = readNpyFile(files.testX);
  const testY = readNpyFile(files.testY);
  t.same([calibration.dtype, calibration.shape], ['u1', [200, 28, 28, 1]]);
  t.same([testX.dtype, testX.shape], ['u1', [500, 28, 28, 1]]);
  t.same([testY.dtype, testY.shape], ['u1', [500]]);
  const counts = new Array<number>(10).fill(0);
  for (const y of testY.data) counts[Number(y)]!++;
  t.same(counts, new Array(10).fill(50), '50 test digits of each class');
  t.equal(EXAMPLE_INPUT_SCALE, 1 / 255);
});

t.test('the shipped float model is as accurate as reported (in our runtime)', async (t) => {
  const bytes = new Uint8Array(readFileSync(files.model));
  const { float } = await evaluateExample(bytes, bytes, files);
  t.ok(float >= REPORTED_FLOAT_ACCURACY, `float accuracy ${float} >= ${REPORTED_FLOAT_ACCURACY}`);
  t.equal(float, info.testAccuracy.tflite, 'the accuracy train.json records');
});

t.test('litequant quantize (no model): int8 example, without ../shared', async (t) => {
  const first = litequant(['quantize']);
  t.equal(first.status, 0, first.stderr);
  const out = join(work, 'mnist_int8.tflite');
  t.ok(existsSync(out), 'wrote ./mnist_int8.tflite');
  t.match(first.stdout, /quantized {2}int8, calibrated on 200 digits \(minmax\)/);
  t.match(first.stdout, /size {7}[\d.]+ KB float -> [\d.]+ KB int8 \([\d.]+x smaller\)/);
  t.match(first.stdout, /accuracy {3}[\d.]+% float, [\d.]+% int8 on 500 held-back digits/);
  t.match(first.stdout, /latency {4}[\d.]+ ms float, [\d.]+ ms int8 per digit \(median of 200 runs, 1 thread\)/);
  t.notMatch(first.stdout, /replaced/);

  // A second run replaces the file and says so; --json has the same numbers.
  const second = litequant(['quantize', '--json']);
  t.equal(second.status, 0, second.stderr);
  const result = JSON.parse(second.stdout) as ExampleResult;
  t.equal(result.replaced, true);
  t.equal(result.mode, 'int8');
  t.equal(result.output, 'mnist_int8.tflite');
  t.equal(result.accuracy.digits, 500);
  t.ok(result.accuracy.float >= REPORTED_FLOAT_ACCURACY, `float ${result.accuracy.float}`);
  t.ok(Math.abs(result.accuracy.float - result.accuracy.quantized) <= 0.01, `int8 ${result.accuracy.quantized} within 1 point of float ${result.accuracy.float}`);
  t.ok(result.size.quantized < result.size.float / 2, `int8 file ${result.size.quantized} bytes, float ${result.size.float}`);
  t.equal(result.size.quantized, readFileSync(out).length);
  t.ok(result.latency.floatMs.median > 0 && result.latency.quantizedMs.median > 0);
  t.equal(result.report.calibration?.samples, 200);
  t.match(first.stdout, new RegExp(`${(result.accuracy.float * 100).toFixed(1)}% float, ${(result.accuracy.quantized * 100).toFixed(1)}% int8`), 'the same accuracy both runs');

  // The file: int8 inside, loads in our runtime and in LiteRT, whose outputs equal ours bit for bit.
  const bytes = new Uint8Array(readFileSync(out));
  const graph = readModel(bytes);
  const sub = graph.subgraphs[0]!;
  t.ok(sub.tensors.some((x) => x.type === TensorType.INT8), 'int8 tensors');
  const testX = readNpyFile(files.testX).data as Uint8Array;
  const samples = Array.from({ length: 12 }, (_, i) => [Float32Array.from(testX.subarray(i * 784, (i + 1) * 784), (p) => p * EXAMPLE_INPUT_SCALE)]);
  const session = await loadModel(bytes, { worker: false });
  const ours: Float32Array[] = [];
  for (const s of samples) ours.push((await session.run(s.map((x) => x.slice())))[0] as Float32Array);
  await session.close();
  const theirs = await runOracle(bytes, samples, { runtime: 'litert', timeoutMs: 120_000 });
  t.equal(theirs.outputs.length, samples.length);
  theirs.outputs.forEach((o, i) => t.same(Array.from(o[0]!.data as Float32Array), Array.from(ours[i]!), `digit ${i}: LiteRT's output equals ours`));
});

t.test('other modes and options pass through', async (t) => {
  const r = litequant(['quantize', '--example', '--mode', 'dynamic', '-o', 'dyn.tflite', '--json']);
  t.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout) as ExampleResult;
  t.equal(result.mode, 'dynamic');
  t.equal(result.report.calibration, null);
  t.ok(existsSync(join(work, 'dyn.tflite')));
  t.ok(Math.abs(result.accuracy.float - result.accuracy.quantized) <= 0.01);

  const io = litequant(['quantize', '--io', 'uint8', '--samples', '50', '-o', 'u8.tflite', '--json']);
  t.equal(io.status, 0, io.stderr);
  const u8 = JSON.parse(io.stdout) as ExampleResult;
  t.equal(u8.report.calibration?.samples, 50);
  t.ok(Math.abs(u8.accuracy.float - u8.accuracy.quantized) <= 0.01, `uint8 I/O: ${u8.accuracy.quantized}`);
  const sub = readModel(new Uint8Array(readFileSync(join(work, 'u8.tflite')))).subgraphs[0]!;
  t.equal(sub.tensors[sub.inputs[0]!]!.type, TensorType.UINT8, 'uint8 input');
});

t.test('errors: one line, exit 1, nothing written', async (t) => {
  const cases: [string[], RegExp][] = [
    [['quantize', '--calibration', 'x.npy'], /--calibration describes your own model's data, but no model was given/],
    [['quantize', '--input-scale', '0.5', '-o', 'bad1.tflite'], /--input-scale describes your own model's data/],
    [['quantize', 'model.tflite', '--example'], /Expected either a model file or --example for litequant quantize but received both/],
    [['quantize', '--mode', 'int4', '-o', 'bad2.tflite'], /Expected one of int8, int16x8, dynamic, float16, weight-only for --mode but received .*int4/],
    [['quantize', '--mode', 'float16', '--method', 'mse', '-o', 'bad3.tflite'], /--method applies only to --mode int8 and int16x8/],
    [['quantize', '-o', join(work, 'missing-dir', 'x.tflite')], /missing-dir/],
  ];
  for (const [args, message] of cases) {
    const r = litequant(args);
    t.equal(r.status, 1, args.join(' '));
    t.match(r.stderr, message, args.join(' '));
    t.match(r.stderr, /^litequant: .* \[ERR_LITEQUANT_\w+\]\n$/);
  }
  for (const name of ['bad1.tflite', 'bad2.tflite', 'bad3.tflite', 'mnist_int8.tflite.tmp']) t.notOk(existsSync(join(work, name)), `no ${name}`);
});

t.test('a copy without the example files says how to get them', async (t) => {
  t.throws(() => exampleFiles(join(work, 'empty')), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message: /npm run example:train/ });
});
