// `litequant bench MODEL.tflite`: load time, first inference, latency (median, p90) and a per-op
// breakdown. Everything runs on the calling thread (worker: false), so the numbers are the
// runtime's own cost, not worker messaging:
// - load: loadModel from bytes already in memory (parse, compile, pack weights, plan buffers),
//   after the addon itself is loaded (once per process, reported apart);
// - first run: the first session.run after load (first touch of buffers, cold caches);
// - latency: --runs timed session.run calls after --warmup untimed ones (a run copies the
//   inputs in and the outputs out, as callers see it);
// - per op: Session.profile over --runs more runs, each step timed where it runs, in up to 10
//   groups; a step's time is the median of its group means, so one preempted run on a busy
//   machine does not make an op look slow.
import { expected } from '../errors.js';
import { capabilities } from '../native/index.js';
import { loadModel, type RunProfile, type Session, type SessionTensorInfo, type TensorData } from '../runtime/session.js';
import { describeFeed, describeInput, openInputData, parseNumberList } from './input-data.js';
import { nameModelError, readModelBytes } from './model-file.js';
import { parseIntOption } from './run.js';

export interface BenchCommandOptions {
  readonly threads?: string;
  readonly runs?: string;
  readonly warmup?: string;
  readonly input?: string[];
  readonly inputScale?: string;
  readonly inputOffset?: string;
  readonly allowNonfinite?: boolean;
  readonly json?: boolean;
}

export const BENCH_HELP = `
Measures, on the calling thread (no worker thread, so the numbers are the kernels' and the
runtime's own cost): load (parse + compile + pack weights, from bytes in memory), the first
inference, latency over --runs session.run calls after --warmup untimed ones (median, p90, mean,
min, max), and a per-op breakdown from --runs profiled runs in up to 10 groups (each step timed;
its time is the median of its group means; sorted by time, with totals per op type).

Input: the first sample of --input (one .npy per model input, same rules as 'litequant run',
with --input-scale/--input-offset), or seeded random data: float inputs uniform in [0, 1),
int8/int16/uint8 inputs uniform over their range, other integer and bool inputs zero.`;

/** mulberry32: a small seeded generator, so random inputs are the same on every run. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomInput(t: SessionTensorInfo, next: () => number): TensorData {
  const n = t.length;
  const uniform = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  switch (t.dtype) {
    case 'float32':
      return Float32Array.from({ length: n }, next);
    case 'int8':
      return Int8Array.from({ length: n }, () => uniform(-128, 127));
    case 'int16':
      return Int16Array.from({ length: n }, () => uniform(-32768, 32767));
    case 'uint8':
      return Uint8Array.from({ length: n }, () => uniform(0, 255));
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export interface LatencyStats {
  readonly median: number;
  readonly p90: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Median (mean of the middle two for an even count) and p90 by nearest rank. */
export function latencyStats(ms: readonly number[]): LatencyStats {
  const s = [...ms].sort((a, b) => a - b);
  const n = s.length;
  const median = n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  return {
    median,
    p90: s[Math.max(0, Math.ceil(0.9 * n) - 1)]!,
    mean: s.reduce((a, b) => a + b, 0) / n,
    min: s[0]!,
    max: s[n - 1]!,
  };
}

function table(rows: string[][], right: ReadonlySet<number>): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(1) : x >= 1 ? x.toFixed(3) : x.toFixed(4));
const r4 = (x: number): number => Number(x.toFixed(4));

export async function benchCommand(modelPath: string, opts: BenchCommandOptions): Promise<void> {
  const threads = parseIntOption(opts.threads, '--threads', 1, 0, 256);
  const runs = parseIntOption(opts.runs, '--runs', 50, 1, 1_000_000);
  const warmup = parseIntOption(opts.warmup, '--warmup', 5, 0, 1_000_000);
  const scale = parseNumberList(opts.inputScale, '--input-scale');
  const offset = parseNumberList(opts.inputOffset, '--input-offset');
  const inputPaths = (opts.input ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (inputPaths.length === 0 && (scale !== undefined || offset !== undefined)) {
    throw expected('--input (the scale and offset apply to its data)', '--input-scale/--input-offset', opts.inputScale ?? opts.inputOffset);
  }

  const bytes = readModelBytes(modelPath);
  // The addon loads once per process: outside the model's load time.
  const addonStart = performance.now();
  const caps = capabilities();
  const addonMs = performance.now() - addonStart;
  const loadStart = performance.now();
  let session: Session;
  try {
    session = await loadModel(bytes, { threads, worker: false });
  } catch (error) {
    throw nameModelError(modelPath, error);
  }
  const loadMs = performance.now() - loadStart;
  try {
    let inputs: TensorData[];
    let inputNote: string[];
    if (inputPaths.length > 0) {
      const data = openInputData(inputPaths, session.inputs, { ...(scale && { scale }), ...(offset && { offset }), allowNonFinite: opts.allowNonfinite === true });
      try {
        inputs = data.read(0, 1);
        inputNote = data.feeds.map((f) => `sample 0 of ${describeFeed(f)}`);
      } finally {
        data.close();
      }
    } else {
      const next = generator(1);
      inputs = session.inputs.map((t) => randomInput(t, next));
      inputNote = session.inputs.map((t, i) => `random (seed 1) for input ${describeInput(t, i)}`);
    }

    const firstStart = performance.now();
    await session.run(inputs);
    const firstMs = performance.now() - firstStart;
    for (let i = 0; i < warmup; i++) await session.run(inputs);
    const runMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await session.run(inputs);
      runMs.push(performance.now() - start);
    }
    const latency = latencyStats(runMs);
    const groups = Math.min(runs, 10);
    const perGroup = Math.ceil(runs / groups);
    const profiles: RunProfile[] = [];
    for (let g = 0; g < groups; g++) profiles.push(await session.profile(inputs, perGroup));
    const profile = {
      runMs: profiles.flatMap((p) => p.runMs),
      steps: profiles[0]!.steps.map((step, i) => ({ ...step, meanMs: latencyStats(profiles.map((p) => p.steps[i]!.meanMs)).median })),
    };

    const profiled = latencyStats(profile.runMs);
    const opTotal = profile.steps.reduce((a, s) => a + s.meanMs, 0);
    const pct = (x: number): number => (opTotal > 0 ? (100 * x) / opTotal : 0);
    const ops = [...profile.steps].sort((a, b) => b.meanMs - a.meanMs);
    const byType = new Map<string, { op: string; count: number; ms: number }>();
    for (const s of profile.steps) {
      const entry = byType.get(s.op) ?? { op: s.op, count: 0, ms: 0 };
      entry.count++;
      entry.ms += s.meanMs;
      byType.set(s.op, entry);
    }
    const types = [...byType.values()].sort((a, b) => b.ms - a.ms);

    if (opts.json === true) {
      const result = {
        model: modelPath,
        bytes: bytes.length,
        threads,
        isa: caps.selected,
        thread: 'main (worker: false)',
        input: inputPaths.length > 0 ? inputPaths : 'random (seed 1)',
        addonLoadMs: r4(addonMs),
        loadMs: r4(loadMs),
        firstRunMs: r4(firstMs),
        warmup,
        runs,
        latencyMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, r4(v)])),
        profile: { groups, runsPerGroup: perGroup },
        profiledRunMs: Object.fromEntries(Object.entries(profiled).map(([k, v]) => [k, r4(v)])),
        opsTotalMs: r4(opTotal),
        ops: ops.map((s) => ({ index: s.index, op: s.op, impl: s.impl, meanMs: r4(s.meanMs), percent: Number(pct(s.meanMs).toFixed(2)) })),
        opTypes: types.map((t) => ({ op: t.op, count: t.count, totalMs: r4(t.ms), percent: Number(pct(t.ms).toFixed(2)) })),
      };
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }

    const threadText = threads === 0 ? 'one thread per core' : `${threads} thread${threads === 1 ? '' : 's'}`;
    const out: string[] = [
      `${modelPath}: ${(bytes.length / 1024).toFixed(1)} KiB, ${session.steps.length} ops`,
      `measured   on the calling thread (worker: false), ${threadText} per native call, kernels: ${caps.selected}`,
      ...inputNote.map((note, i) => `${i === 0 ? 'input      ' : '           '}${note}`),
      `load       ${ms(loadMs)} ms  (parse + compile + pack weights, from bytes in memory; loading the addon took ${ms(addonMs)} ms before)`,
      `first run  ${ms(firstMs)} ms`,
      `latency    median ${ms(latency.median)} ms, p90 ${ms(latency.p90)} ms  (mean ${ms(latency.mean)}, min ${ms(latency.min)}, max ${ms(latency.max)}; ${runs} runs after ${warmup} warm-up)`,
      '',
      `Per op: ${groups} groups of ${perGroup} profiled runs, each step's median group mean (the runs: median ${ms(profiled.median)} ms, mean ${ms(profiled.mean)} ms); sum over ops ${ms(opTotal)} ms`,
      ...table(
        [['  #', 'op', 'impl', 'ms', '%'], ...ops.map((s) => [`  ${s.index}`, s.op, s.impl, ms(s.meanMs), pct(s.meanMs).toFixed(1)])],
        new Set([3, 4]),
      ),
      '',
      'Per op type',
      ...table(
        [['  op', 'count', 'ms', '%'], ...types.map((t) => [`  ${t.op}`, String(t.count), ms(t.ms), pct(t.ms).toFixed(1)])],
        new Set([1, 2, 3]),
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await session.close();
  }
}
