// `litequant run`: builder-made models run from .npy files and give the session API's results;
// bad input fails with a clear message, exit code 1 and no output file (and no temp file) left;
// Ctrl-C leaves nothing. A shared-model run (ResNet-8 on CIFAR-10) when ../shared is there.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { builtinOptions, GraphBuilder } from '../../lib/ir/builder.js';
import { packageRoot } from '../../lib/native/loader.js';
import { readNpyFile, writeNpyFile, type NpyArray } from '../../lib/npy.js';
import { loadModel, type TensorData } from '../../lib/runtime/session.js';
import { BuiltinOperator, TensorType } from '../../lib/tflite/schema.js';
import { writeModel } from '../../lib/tflite/write.js';
import { sharedPath, sharedSkip } from '../fixtures/shared.js';
import { tinyGraph } from '../fixtures/tiny-model.js';

const cli = join(packageRoot, 'dist', 'cli', 'main.js');
const work = mkdtempSync(join(tmpdir(), 'litequant-run-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8' });
}
const at = (name: string): string => join(work, name);
/** Files in a directory other than the given ones: temp files or partial outputs left behind. */
const leftovers = (dir: string, keep: readonly string[] = []): string[] => readdirSync(dir).filter((f) => !keep.includes(f));

function npy(name: string, array: NpyArray): string {
  writeNpyFile(at(name), array);
  return at(name);
}

// tiny: float input [1, 4] (batch -1) -> FULLY_CONNECTED + RELU -> QUANTIZE -> int8 [1, 3].
const tiny = at('tiny.tflite');
writeFileSync(tiny, writeModel(tinyGraph()));

// two: inputs a float32 [1, 2, 2] and q int8 [1, 4] (scale 0.5, zero point -3); outputs a + a
// (float32 [1, 2, 2]) and dequantize(q) (float32 [1, 4]), which shows what the CLI fed.
const two = at('two.tflite');
{
  const b = new GraphBuilder();
  const a = b.input({ name: 'a', type: TensorType.FLOAT32, shape: [1, 2, 2] });
  const q = b.input({ name: 'q', type: TensorType.INT8, shape: [1, 4], quantization: { scale: 0.5, zeroPoint: -3 } });
  const sum = b.tensor({ name: 'sum', type: TensorType.FLOAT32, shape: [1, 2, 2] });
  const deq = b.tensor({ name: 'deq', type: TensorType.FLOAT32, shape: [1, 4] });
  b.op(BuiltinOperator.ADD, [a, a], [sum], { options: builtinOptions('AddOptions') });
  b.op(BuiltinOperator.DEQUANTIZE, [q], [deq]);
  b.output(sum, deq);
  writeFileSync(two, writeModel(b.build()));
}

// Multiples of 1/4: the float arithmetic is exact, so any batching gives the same bits.
const tinyX = Float32Array.from({ length: 7 * 4 }, (_, i) => ((i * 5) % 13) / 4 - 1.5);
const tinyIn = npy('tiny-x.npy', { dtype: 'f4', shape: [7, 4], data: tinyX });

async function sessionOutputs(model: string, samples: TensorData[][]): Promise<TensorData[][]> {
  const session = await loadModel(new Uint8Array(readFileSync(model)), { worker: false });
  const out: TensorData[][] = [];
  for (const s of samples) out.push(await session.run(s));
  await session.close();
  return out;
}

const values = (a: NpyArray): unknown[] => Array.from(a.data as ArrayLike<unknown>);

t.test('tiny model: [7, 4] float samples -> [7, 3] int8, equal to the session API; text and JSON', async (t) => {
  const out = at('tiny-out.npy');
  const r = run(tiny, '--input', tinyIn, '-o', out);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', 'no progress bar or warnings when not on a terminal');
  t.match(r.stdout, /tiny\.tflite: 7 samples in .* ms \(.* ms per sample, batch 1, 1 thread; load .* ms\)/);
  t.match(r.stdout, /in {3}'.*tiny-x\.npy' float32 \[7, 4\] -> input 0 'input' float32 \[1, 4\]: raw/);
  t.match(r.stdout, /out {2}output 0 'output_q' int8 -> '.*tiny-out\.npy' \[7, 3\]/);
  const got = readNpyFile(out);
  t.same([got.dtype, got.shape], ['i1', [7, 3]], 'int8, batch axis of 1 dropped');
  const want = await sessionOutputs(tiny, Array.from({ length: 7 }, (_, i) => [tinyX.slice(i * 4, i * 4 + 4)]));
  t.same(values(got), want.flatMap((o) => Array.from(o[0] as Int8Array)), 'equal to Session.run sample by sample');

  const json = run(tiny, '--input', tinyIn, '-o', out, '--json', '--input-scale', '2', '--input-offset', '-1');
  t.equal(json.status, 0, json.stderr);
  const s = JSON.parse(json.stdout) as Record<string, unknown>;
  t.match(s, {
    samples: 7,
    batch: 1,
    threads: 1,
    inputs: [{ path: tinyIn, dtype: 'float32', shape: [7, 4], feed: 'float', scale: 2, offset: -1 }],
    outputs: [{ path: out, name: 'output_q', dtype: 'int8', shape: [7, 3], nonFinite: 0 }],
  });
  t.ok(typeof s['msPerSample'] === 'number' && typeof s['loadMs'] === 'number');
  const scaled = await sessionOutputs(tiny, Array.from({ length: 7 }, (_, i) => [tinyX.slice(i * 4, i * 4 + 4).map((v) => v * 2 - 1)]));
  t.same(values(readNpyFile(out)), scaled.flatMap((o) => Array.from(o[0] as Int8Array)), 'raw * 2 - 1 fed');
  t.same(leftovers(work).filter((f) => f.endsWith('.tmp')), [], 'no temp files');
});

t.test('two inputs, two outputs: float data quantized for the int8 input; -o list or one path', async (t) => {
  const a = Float32Array.from({ length: 3 * 4 }, (_, i) => i - 4.5);
  const qReal = Float32Array.from([0.25, 0.75, -0.25, 1.25, 100, -100, 0, -1.75, 3, 3.25, 3.5, 3.75]);
  const aIn = npy('a.npy', { dtype: 'f4', shape: [3, 2, 2], data: a });
  const qIn = npy('q.npy', { dtype: 'f4', shape: [3, 4], data: qReal });
  const r = run(two, '--input', `${aIn},${qIn}`, '-o', `${at('sum.npy')},${at('deq.npy')}`);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /'.*q\.npy' float32 \[3, 4\] -> input 1 'q' int8 \[1, 4\]: quantized \(raw\) \/ 0\.5 \+ -3, round half to even/);
  const sum = readNpyFile(at('sum.npy'));
  t.same([sum.dtype, sum.shape, values(sum)], ['f4', [3, 2, 2], Array.from(a, (v) => v + v)]);
  // q = clamp(round_half_even(x / 0.5) - 3), dequantized back: (q + 3) * 0.5.
  const deq = readNpyFile(at('deq.npy'));
  const rhe = (x: number): number => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));
  const expectDeq = Array.from(qReal, (x) => (Math.min(127, Math.max(-128, rhe(x / 0.5) - 3)) + 3) * 0.5);
  t.same([deq.shape, values(deq)], [[3, 4], expectDeq]);
  t.same(values(deq).slice(0, 4), [0, 1, 0, 1], 'half to even: 0.5 -> 0, 1.5 -> 2, -0.5 -> 0, 2.5 -> 2');

  // One path for two outputs: out.npy and out_1.npy; --input given twice.
  const single = run(two, '--input', aIn, '--input', qIn, '-o', at('both.npy'), '--json');
  t.equal(single.status, 0, single.stderr);
  const s = JSON.parse(single.stdout) as { outputs: { path: string }[] };
  t.same(s.outputs.map((o) => o.path), [at('both.npy'), at('both_1.npy')]);
  t.same(values(readNpyFile(at('both_1.npy'))), expectDeq);

  // int8 data for the int8 input goes in as is.
  const qRaw = npy('q-raw.npy', { dtype: 'i1', shape: [3, 1, 4], data: Int8Array.from({ length: 12 }, (_, i) => i * 20 - 128) });
  const raw = run(two, '--input', `${aIn},${qRaw}`, '-o', at('raw.npy'));
  t.equal(raw.status, 0, raw.stderr);
  t.same(values(readNpyFile(at('raw_1.npy'))), Array.from({ length: 12 }, (_, i) => (i * 20 - 128 + 3) * 0.5));
  const rawScaled = run(two, '--input', `${aIn},${qRaw}`, '-o', at('raw.npy'), '--input-scale', '0.5');
  t.equal(rawScaled.status, 1);
  t.match(rawScaled.stderr, /--input-scale\/--input-offset \(0\.5\/0\) do not apply to model input 1 'q' int8 \[1, 4\]: .* is int8 like the input, so its values go in as is\. Give 1 and 0 for it \(one value per input: e\.g\. --input-scale 0\.5,1\)/);
  const perInput = run(two, '--input', `${aIn},${qRaw}`, '-o', at('raw.npy'), '--input-scale', '0.5,1');
  t.equal(perInput.status, 0, perInput.stderr);
  t.same(values(readNpyFile(at('raw.npy'))), Array.from(a, (v) => v * 0.5 * 2), 'per-input scales');
});

t.test('--batch feeds several samples per run on a dynamic-batch model; results do not change', async (t) => {
  const ref = run(tiny, '--input', tinyIn, '-o', at('b1.npy'));
  t.equal(ref.status, 0, ref.stderr);
  for (const b of ['3', '7', '64']) {
    const r = run(tiny, '--input', tinyIn, '-o', at(`b${b}.npy`), '--batch', b, '--json');
    t.equal(r.status, 0, `--batch ${b}: ${r.stderr}`);
    t.same(values(readNpyFile(at(`b${b}.npy`))), values(readNpyFile(at('b1.npy'))), `--batch ${b}`);
  }
  const aIn = npy('a2.npy', { dtype: 'f4', shape: [2, 4], data: new Float32Array(8) });
  const qIn = npy('q2.npy', { dtype: 'i1', shape: [2, 4], data: new Int8Array(8) });
  const fixed = run(two, '--input', `${aIn},${qIn}`, '-o', at('x.npy'), '--batch', '2');
  t.equal(fixed.status, 1);
  t.match(fixed.stderr, /--batch 2 needs a dynamic batch \(shape signature \[-1, \.\.\.\]\) on every model input, but input 0 'a' float32 \[1, 2, 2\] has signature \[1, 2, 2\]; use --batch 1 \[ERR_LITEQUANT_INVALID_ARGUMENT\]/);
});

t.test('bad input: exit code 1, a message naming the problem, no output or temp file', async (t) => {
  const dir = at('errors');
  mkdirSync(dir);
  const out = join(dir, 'out.npy');
  // An existing output stays as it was when a run fails.
  writeFileSync(out, 'previous');
  const check = (name: string, args: string[], pattern: RegExp): void => {
    const r = run(...args);
    t.equal(r.status, 1, `${name}: exit code`);
    t.match(r.stderr, pattern, name);
    t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    t.same(leftovers(dir, ['out.npy']), [], `${name}: nothing left behind`);
    t.equal(readFileSync(out, 'utf8'), 'previous', `${name}: the previous output is untouched`);
  };
  const garbage = at('garbage.tflite');
  writeFileSync(garbage, 'this is not a flatbuffer at all, just text');
  check('missing model', [at('nope.tflite'), '--input', tinyIn, '-o', out], /Cannot read model file '.*nope\.tflite': ENOENT \[ERR_LITEQUANT_INVALID_ARGUMENT\]/);
  check('corrupt model', [garbage, '--input', tinyIn, '-o', out], /garbage\.tflite: .*\[ERR_LITEQUANT_MODEL_FORMAT\]/);
  check('missing input', [tiny, '--input', at('nope.npy'), '-o', out], /Cannot read '.*nope\.npy': ENOENT/);
  check('not a .npy', [tiny, '--input', garbage, '-o', out], /Cannot read '.*garbage\.tflite' as a NumPy \.npy file: the magic string/);
  const wrongShape = npy('wrong-shape.npy', { dtype: 'f4', shape: [7, 2, 2], data: new Float32Array(28) });
  check('wrong sample shape', [tiny, '--input', wrongShape, '-o', out], /Expected samples of shape \[4\] .* for model input 0 'input' float32 \[1, 4\] but '.*wrong-shape\.npy' has shape \[7, 2, 2\]: samples of \[2, 2\]/);
  const f16 = at('half.npy');
  const header = "{'descr': '<f2', 'fortran_order': False, 'shape': (7, 4), }";
  const bytes = new Uint8Array(128 + 56);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
  bytes.set(new TextEncoder().encode(`${header.padEnd(117, ' ')}\n`), 10);
  writeFileSync(f16, bytes);
  check('unsupported dtype', [tiny, '--input', f16, '-o', out], /half\.npy' as a NumPy \.npy file: dtype '<f2' is not supported \(float16: convert with x\.astype\(np\.float32\)\)/);
  const ids = npy('ids.npy', { dtype: 'f4', shape: [2, 4], data: new Float32Array([0, 1, 2, 3, 4, 5.5, 6, 7]) });
  const aIn = npy('a3.npy', { dtype: 'f4', shape: [2, 4], data: new Float32Array(8) });
  const a4 = npy('a4.npy', { dtype: 'f4', shape: [3, 4], data: new Float32Array(12) });
  check('mismatched N', [two, '--input', `${a4},${ids}`, '-o', out], /Expected the same number of samples in every --input file but '.*a4\.npy' has 3 and '.*ids\.npy' has 2/);
  check('file count', [two, '--input', aIn, '-o', out], /Expected 2 \.npy files for --input \(one per model input: 0 'a' float32 \[1, 2, 2\]; 1 'q' int8 \[1, 4\]\) but received 1/);
  const empty = npy('empty.npy', { dtype: 'f4', shape: [0, 4], data: new Float32Array(0) });
  check('no samples', [tiny, '--input', empty, '-o', out], /empty\.npy' has no samples \(shape \[0, 4\]\)/);
  const nan = npy('nan.npy', { dtype: 'f4', shape: [7, 4], data: tinyX.map((v, i) => (i === 21 ? NaN : v)) });
  check('NaN mid-run', [tiny, '--input', nan, '-o', out], /'.*nan\.npy'\[5, 1\] is NaN: model input 0 'input' float32 \[1, 4\] takes finite values \(--allow-nonfinite lets NaN\/Infinity through\)/);
  check('unwritable directory', [tiny, '--input', tinyIn, '-o', join(dir, 'missing', 'out.npy')], /Cannot write '.*missing\/out\.npy': ENOENT \(the directory does not exist\)/);
  check('output is a directory', [tiny, '--input', tinyIn, '-o', dir], /Cannot write '.*errors': it is a directory/);
  check('too many -o paths', [two, '--input', `${aIn},${ids}`, '-o', `${out},${out}2,${out}3`], /Expected 2 paths for -o \(one per model output: 0 'sum' float32 \[1, 2, 2\]; 1 'deq' float32 \[1, 4\]\), or one, but received 3/);
  check('same -o path twice', [two, '--input', `${aIn},${ids}`, '-o', `${out},${out}`], /Expected distinct paths for -o but '.*out\.npy' appears twice/);
  check('bad --threads', [tiny, '--input', tinyIn, '-o', out, '--threads', 'many'], /Expected an integer from 0 to 256 for --threads but received the string 'many'/);
  check('bad --input-scale', [tiny, '--input', tinyIn, '-o', out, '--input-scale', '1,x'], /Expected a finite number, or a comma-separated list of them \(one per model input\) for --input-scale but received the string '1,x'/);

  const allowed = run(tiny, '--input', nan, '-o', join(dir, 'nan-out.npy'), '--allow-nonfinite');
  t.equal(allowed.status, 0, `--allow-nonfinite: ${allowed.stderr}`);
  const missingArgs = spawnSync(process.execPath, [cli, 'run', tiny], { encoding: 'utf8' });
  t.not(missingArgs.status, 0);
  t.match(missingArgs.stderr, /required option '--input <files>' not specified/);
});

t.test('Ctrl-C during a run: exit code 130, no output and no temp file left', async (t) => {
  const dir = at('interrupt');
  mkdirSync(dir);
  const n = 400_000;
  const big = npy('big.npy', { dtype: 'f4', shape: [n, 4], data: Float32Array.from({ length: n * 4 }, (_, i) => (i % 9) / 4) });
  const child = spawn(process.execPath, [cli, 'run', tiny, '--input', big, '-o', join(dir, 'out.npy')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Interrupt once the temp output exists (the run has started writing).
  const started = Date.now();
  let sawTemp = false;
  while (Date.now() - started < 20_000 && child.exitCode === null) {
    if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) {
      sawTemp = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  t.ok(sawTemp, 'the run started writing a temp file');
  child.kill('SIGINT');
  const code = await exited;
  t.equal(code, 130, stderr);
  t.match(stderr, /interrupted \(SIGINT\); no output written/);
  t.same(readdirSync(dir), [], 'no output, no temp file');
});

t.test('--help explains the input rules, NaN policy and output naming', async (t) => {
  const r = spawnSync(process.execPath, [cli, 'run', '--help'], { encoding: 'utf8' });
  t.equal(r.status, 0);
  t.match(r.stdout, /round_half_to_even/);
  t.match(r.stdout, /NaN or Infinity in an input \(after scaling\) is an error/);
  t.match(r.stdout, /output k to\s+out_k\.npy/);
  t.match(r.stdout, /--allow-nonfinite/);
});

t.test('ResNet-8 on CIFAR-10 (shared): the CLI equals the session API, float with --input-scale and the int8 twin', { skip: sharedSkip('models', 'ic_resnet8_float.tflite') || sharedSkip('data', 'cifar10_200_x.npy') }, async (t) => {
  const x = readNpyFile(sharedPath('data', 'cifar10_200_x.npy'));
  const per = 32 * 32 * 3;
  const pixels = x.data as Uint8Array;
  const n = x.shape[0]!;

  const floatModel = sharedPath('models', 'ic_resnet8_float.tflite');
  const f = run(floatModel, '--input', sharedPath('data', 'cifar10_200_x.npy'), '-o', at('r8-float.npy'), '--input-scale', '0.5', '--input-offset', '1', '--json');
  t.equal(f.status, 0, f.stderr);
  const fOut = readNpyFile(at('r8-float.npy'));
  t.same([fOut.dtype, fOut.shape], ['f4', [n, 10]]);
  const fWant = await sessionOutputs(floatModel, Array.from({ length: n }, (_, i) => [Float32Array.from(pixels.subarray(i * per, (i + 1) * per), (p) => p * 0.5 + 1)]));
  t.same(values(fOut), fWant.flatMap((o) => Array.from(o[0] as Float32Array)), `float: ${n} samples bit-identical to Session.run on raw * 0.5 + 1`);

  const int8Model = sharedPath('models', 'ic_resnet8_int8_official.tflite');
  const q = run(int8Model, '--input', sharedPath('data', 'cifar10_200_x.npy'), '-o', at('r8-int8.npy'));
  t.equal(q.status, 0, q.stderr);
  t.match(q.stdout, /quantized \(raw\) \/ 1 \+ -128/);
  const qOut = readNpyFile(at('r8-int8.npy'));
  t.same([qOut.dtype, qOut.shape], ['i1', [n, 10]]);
  const qWant = await sessionOutputs(int8Model, Array.from({ length: n }, (_, i) => [Int8Array.from(pixels.subarray(i * per, (i + 1) * per), (p) => p - 128)]));
  t.same(values(qOut), qWant.flatMap((o) => Array.from(o[0] as Int8Array)), `int8: uint8 pixels quantized to p - 128, ${n} samples bit-identical`);
  t.ok(existsSync(at('r8-int8.npy')));
});
