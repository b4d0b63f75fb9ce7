// The quantizer section of npm run bench (issue 6): quantize() timed end to end from files on
// disk, as a user runs it: the model read, calibration samples streamed from the .npy (openNpy,
// one sample at a time, uint8 pixels -> float32), quantize() (calibration, rewrite, write, and
// the test-load of the result in our runtime it always does).
// - ResNet-8 int8 with 100 calibration samples, once per calibration method, and int16x8
//   (minmax); the issue's target: < 2 s end to end.
// - dynamic, float16 and weight-only for every float model in ../shared/models, with the size
//   ratios (float bytes / quantized bytes).
// - The same ResNet-8 int8 quantization through the CLI, as a process (Node start, addon load,
//   parsing the options and writing the file included).
// Each row is the median of REPEATS runs (one untimed warm-up run first, so the first row does
// not pay for loading the addon and compiling the code paths).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openNpy, quantize } from 'litequant';
import type { CalibrationMethod, QuantizeMode, QuantizeOptions } from 'litequant';

import { table } from './runtime.js';

export interface QuantizeRow {
  readonly model: string;
  readonly mode: QuantizeMode;
  readonly method: CalibrationMethod | null;
  /** Calibration samples (null for modes without calibration). */
  readonly samples: number | null;
  /** End to end (model read + streamed samples + quantize()), median of `runs`; null on error. */
  readonly totalMs: number | null;
  /** The calibration phase alone (report.calibration.ms), median. */
  readonly calibrationMs: number | null;
  readonly runs: number;
  readonly sizeBefore: number | null;
  readonly sizeAfter: number | null;
  /** sizeBefore / sizeAfter. */
  readonly ratio: number | null;
  readonly warnings: number;
  readonly error: string | null;
}

export interface QuantizeCliRun {
  /** Wall time of `litequant quantize` as a child process, median of `runs`. */
  readonly ms: number | null;
  readonly runs: number;
  readonly command: string;
  readonly error: string | null;
}

export interface QuantizeResult {
  readonly rows: QuantizeRow[];
  readonly cli: QuantizeCliRun | null;
  readonly seconds: number;
}

export interface QuantizeBenchOptions {
  /** The package root (for dist/cli/main.js). */
  readonly root: string;
  /** ../shared: models/ and data/. */
  readonly shared: string;
  readonly budgetSeconds: number;
  readonly log: (line: string) => void;
  readonly note: (text: string) => void;
}

export const RESNET8 = 'ic_resnet8_float.tflite';
const CIFAR = 'cifar10_200_x.npy';
export const CALIBRATION_SAMPLES = 100;
const METHODS: readonly CalibrationMethod[] = ['minmax', 'ema', 'percentile', 'entropy', 'mse'];
const WEIGHT_MODES: readonly QuantizeMode[] = ['dynamic', 'float16', 'weight-only'];
const REPEATS = 3;

const median = (values: readonly number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The first `count` samples of a uint8/float32 .npy as float32 arrays, read one at a time. */
function* npySamples(path: string, count: number): Generator<Float32Array> {
  const file = openNpy(path);
  try {
    const n = Math.min(count, file.samples);
    for (let i = 0; i < n; i++) {
      const raw = file.read(i, 1);
      yield raw instanceof Float32Array ? raw : Float32Array.from(raw as ArrayLike<number>);
    }
  } finally {
    file.close();
  }
}

async function timeQuantize(
  modelPath: string,
  mode: QuantizeMode,
  method: CalibrationMethod | null,
  dataPath: string | null,
  repeats: number,
): Promise<QuantizeRow> {
  const model = modelPath.split('/').pop() ?? modelPath;
  const totals: number[] = [];
  const calibrations: number[] = [];
  let sizes: { before: number; after: number; warnings: number } | null = null;
  let samples: number | null = null;
  try {
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const bytes = new Uint8Array(readFileSync(modelPath));
      const options: QuantizeOptions = {
        mode,
        ...(method !== null && { method }),
        ...(dataPath !== null && { calibration: npySamples(dataPath, CALIBRATION_SAMPLES) }),
      };
      const result = await quantize(bytes, options);
      totals.push(performance.now() - start);
      if (result.report.calibration !== null) {
        calibrations.push(result.report.calibration.ms);
        samples = result.report.calibration.samples;
      }
      sizes = {
        before: result.report.sizeBefore,
        after: result.report.sizeAfter,
        warnings: result.diagnostics.filter((d) => d.level === 'warning').length,
      };
    }
  } catch (error) {
    return { model, mode, method, samples, totalMs: null, calibrationMs: null, runs: totals.length, sizeBefore: null, sizeAfter: null, ratio: null, warnings: 0, error: (error as Error).message.split('\n')[0] ?? String(error) };
  }
  return {
    model,
    mode,
    method,
    samples,
    totalMs: median(totals),
    calibrationMs: calibrations.length > 0 ? median(calibrations) : null,
    runs: totals.length,
    sizeBefore: sizes?.before ?? null,
    sizeAfter: sizes?.after ?? null,
    ratio: sizes !== null && sizes.after > 0 ? sizes.before / sizes.after : null,
    warnings: sizes?.warnings ?? 0,
    error: null,
  };
}

function timeCli(o: QuantizeBenchOptions, modelPath: string, dataPath: string, repeats: number): QuantizeCliRun {
  const cli = join(o.root, 'dist', 'cli', 'main.js');
  const dir = mkdtempSync(join(tmpdir(), 'litequant-bench-quantize-'));
  const args = [cli, 'quantize', modelPath, '-o', join(dir, 'out.tflite'), '--mode', 'int8', '--calibration', dataPath, '--samples', String(CALIBRATION_SAMPLES)];
  const command = `litequant quantize ${RESNET8} -o out.tflite --mode int8 --calibration ${CIFAR} --samples ${CALIBRATION_SAMPLES}`;
  const times: number[] = [];
  try {
    if (!existsSync(cli)) return { ms: null, runs: 0, command, error: `${cli} is absent (npm run build:ts)` };
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      const p = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60_000 });
      const ms = performance.now() - start;
      if (p.status !== 0) return { ms: null, runs: times.length, command, error: (p.stderr || p.error?.message || `exit ${p.status}`).trim() };
      times.push(ms);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { ms: median(times), runs: times.length, command, error: null };
}

export async function measureQuantize(o: QuantizeBenchOptions): Promise<QuantizeResult> {
  const started = performance.now();
  const seconds = (): number => (performance.now() - started) / 1000;
  const models = join(o.shared, 'models');
  const resnet = join(models, RESNET8);
  const cifar = join(o.shared, 'data', CIFAR);
  const rows: QuantizeRow[] = [];
  const haveResnet = existsSync(resnet) && existsSync(cifar);
  if (!haveResnet) o.note(`quantize: ${resnet} or ${cifar} is absent: no ResNet-8 int8 timing`);

  if (haveResnet) {
    // Warm-up: the addon, the code paths, the file cache.
    await timeQuantize(resnet, 'int8', 'minmax', cifar, 1);
    for (const method of METHODS) {
      o.log(`quantize: ${RESNET8} int8, ${method}, ${CALIBRATION_SAMPLES} samples x${REPEATS}`);
      rows.push(await timeQuantize(resnet, 'int8', method, cifar, REPEATS));
    }
    rows.push(await timeQuantize(resnet, 'int16x8', 'minmax', cifar, REPEATS));
  }
  const floats = existsSync(models) ? readdirSync(models).filter((f) => f.endsWith('_float.tflite')).sort() : [];
  for (const f of floats) {
    if (seconds() > o.budgetSeconds * 0.8) {
      o.note(`quantize: ${f} and later models skipped to stay within the time budget`);
      break;
    }
    o.log(`quantize: ${f} ${WEIGHT_MODES.join(', ')} x${REPEATS}`);
    for (const mode of WEIGHT_MODES) rows.push(await timeQuantize(join(models, f), mode, null, null, REPEATS));
  }
  for (const r of rows) if (r.error !== null) o.note(`quantize: ${r.model} ${r.mode}${r.method ? ` ${r.method}` : ''} failed: ${r.error}`);

  let cli: QuantizeCliRun | null = null;
  if (haveResnet && seconds() < o.budgetSeconds) {
    o.log(`quantize: the CLI, ${RESNET8} int8 x2`);
    cli = timeCli(o, resnet, cifar, 2);
    if (cli.error !== null) o.note(`quantize: the CLI run failed: ${cli.error}`);
  }
  return { rows, cli, seconds: seconds() };
}

const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(0));
const kb = (v: number | null): string => (v === null ? '-' : `${(v / 1024).toFixed(1)}K`);

export function quantizeReport(r: QuantizeResult): string {
  const out: string[] = [
    `Quantizer: quantize() end to end from files (model read, .npy streamed, calibration, rewrite, write, test-load), median of ${REPEATS} runs, ms`,
  ];
  out.push(
    table(
      ['model', 'mode', 'method', 'samples', 'total', 'calibration', 'float', 'quantized', 'smaller', 'warnings'],
      r.rows.map((x) => [
        x.model.replace(/\.tflite$/, ''),
        x.mode,
        x.method ?? '-',
        x.samples === null ? '-' : String(x.samples),
        x.error === null ? ms(x.totalMs) : 'failed',
        ms(x.calibrationMs),
        kb(x.sizeBefore),
        kb(x.sizeAfter),
        x.ratio === null ? '-' : `${x.ratio.toFixed(2)}x`,
        String(x.warnings),
      ]),
      new Set([0, 1, 2]),
    ),
  );
  if (r.cli !== null) {
    out.push(`  CLI process: ${r.cli.command}: ${r.cli.ms === null ? `failed (${r.cli.error})` : `${r.cli.ms.toFixed(0)} ms (median of ${r.cli.runs}; Node start and addon load included)`}`);
  }
  return out.join('\n');
}
