// The ratios the kernel work is judged by, computed from the rows of one run (absolute times
// drift on a shared machine; ratios within a run do not, much), and the targets they are held
// to. Pure functions of the rows: run.ts prints them and writes them into the JSON.
import type { PeerResult, Row } from './report.js';
import type { RuntimeResult } from './runtime.js';
import { CALIBRATION_SAMPLES, RESNET8, type QuantizeResult } from './quantize.js';
import type { LstmResult } from './lstm.js';
import { normalizeShape, shapeKey, type ConvShape, type GemmShape, type LayerShape } from './shapes.js';

/** A JS call-overhead measurement (run.ts); `key` names which call it is. */
export interface CallOverhead {
  readonly key: string;
  readonly call: string;
  readonly nanoseconds: number;
}

export interface Ratio {
  readonly name: string;
  /** The ratio (x), percentage (%) or time (us); null when not measured in this run. */
  readonly value: number | null;
  readonly unit: 'x' | '%' | 'us' | 'ms';
  /** What was compared (paths, shapes, times), or why it is missing. */
  readonly detail: string;
}

export interface Target {
  readonly name: string;
  /** e.g. ">= 65%" */
  readonly goal: string;
  readonly value: number | null;
  readonly unit: 'x' | '%' | 'us' | 'ms';
  /** null: not measured in this run (detail says why). */
  readonly met: boolean | null;
  readonly detail: string;
}

const gemm = (M: number, K: number, N: number): GemmShape => ({ kind: 'gemm', M, K, N });
const conv = (kind: ConvShape['kind'], hw: number, C: number, OC: number, k: number): ConvShape => ({
  kind,
  N: 1,
  H: hw,
  W: hw,
  C,
  OC,
  KH: k,
  KW: k,
  SH: 1,
  SW: 1,
  DH: 1,
  DW: 1,
  padding: 'SAME',
});

// The shapes the targets name (the benches' own default shapes).
const GEMM_LARGE = gemm(128, 1024, 1024);
const CONV_3X3 = conv('conv', 56, 64, 64, 3);
const CONV_1X1 = conv('conv', 56, 128, 128, 1);
const DWCONV_3X3 = conv('dwconv', 56, 128, 128, 3);

const keyOf = (r: Row): string | undefined => {
  const s = normalizeShape(r.family, r.line.shape);
  return s ? shapeKey(s) : undefined;
};

/** The family's rows from its own bench on the benches' shapes (not another bench's baseline). */
function own(rows: readonly Row[], family: string): Row[] {
  return rows.filter((r) => r.family === family && r.label === r.family && r.source === 'default');
}

/** The path a family's rows were mostly measured on: the first one that is not the reference. */
function mainPath(rows: readonly Row[]): string | undefined {
  return rows.find((r) => r.path !== 'reference')?.path ?? rows[0]?.path;
}

function find(rows: readonly Row[], family: string, shape: LayerShape, threads: number, path?: string): Row | undefined {
  const candidates = own(rows, family).filter((r) => r.threads === threads && keyOf(r) === shapeKey(shape));
  const p = path ?? mainPath(own(rows, family));
  return candidates.find((r) => r.path === p);
}

const us = (seconds: number): string => `${(seconds * 1e6).toFixed(seconds < 1e-4 ? 2 : 0)} us`;

// % of the peak for the row's own path; when that path has no microbenchmark the row's peak is
// the machine's best of that kind, which the detail says.
function percentOfPeak(name: string, r: Row | undefined, what: string): Ratio {
  if (!r) return { name, value: null, unit: '%', detail: `${what} was not measured in this run` };
  if (!r.peak) return { name, value: null, unit: '%', detail: `${r.path}: no peak measurement (peak_bench did not run)` };
  const samePath = r.peak.path === r.path;
  return {
    name,
    value: (100 * r.gops) / r.peak.gops,
    unit: '%',
    detail:
      `${r.path}, ${r.gops.toFixed(1)} GOPS of ${r.peak.gops.toFixed(1)} (${r.peak.instruction}, ${r.peak.path} peak` +
      `${samePath ? '' : `: ${r.path} has no peak microbenchmark`})`,
  };
}

function peerRatio(name: string, r: Row | undefined, p: PeerResult | null | undefined, peerCallSeconds: number | null): Ratio {
  if (!r) return { name, value: null, unit: 'x', detail: 'our kernel was not measured in this run' };
  if (p?.seconds === undefined) {
    return { name, value: null, unit: 'x', detail: `onnxruntime not measured (${p?.skipped ?? 'no peer in this run'})` };
  }
  const bound = peerCallSeconds !== null && p.seconds < 3 * peerCallSeconds ? '; under 3x its binding cost' : '';
  return {
    name,
    value: p.seconds / r.seconds,
    unit: 'x',
    detail: `${r.path}: ours ${us(r.seconds)}, ${p.op} ${us(p.seconds)}${bound}`,
  };
}

/** hybrid_gemm time over the int8 GEMM's for the same shape, path and threads. */
function hybridVsInt8(rows: readonly Row[], h: Row): number | undefined {
  const inline = h.line['vs_qs8_gemm'];
  // hybrid_bench times its qs8_gemm baseline next to the hybrid call: the fairest pairing.
  if (typeof inline === 'number' && Number.isFinite(inline) && inline > 0) return inline;
  const key = keyOf(h);
  const base =
    rows.find((r) => r.family === 'qs8_gemm' && r.bench === h.bench && r.path === h.path && r.threads === h.threads && keyOf(r) === key) ??
    rows.find((r) => r.family === 'qs8_gemm' && r.path === h.path && r.threads === h.threads && keyOf(r) === key);
  return base ? h.seconds / base.seconds : undefined;
}

// hybrid_gemm's shape entry "asymmetric" as 'true' / 'false' ('' when absent).
function asymmetricOf(r: Row): string {
  const shape = r.line.shape;
  return shape !== null && typeof shape === 'object' ? String((shape as Record<string, unknown>)['asymmetric'] ?? '') : '';
}

function target(name: string, goal: string, ratio: Ratio, ok: (v: number) => boolean): Target {
  return {
    name,
    goal,
    value: ratio.value,
    unit: ratio.unit,
    met: ratio.value === null ? null : ok(ratio.value),
    detail: ratio.detail,
  };
}

export function computeTargets(
  rows: readonly Row[],
  overheads: readonly CallOverhead[],
  peerCallSeconds: number | null,
): { ratios: Ratio[]; targets: Target[] } {
  const ratios: Ratio[] = [];
  const targets: Target[] = [];

  // int8 GEMM and conv against the measured peak of their path.
  const gemmRow = find(rows, 'qs8_gemm', GEMM_LARGE, 1);
  const gemmPeak = percentOfPeak('int8 GEMM M=128 K=N=1024, % of peak', gemmRow, 'qs8_gemm M=128 K=N=1024');
  const conv3 = percentOfPeak('int8 conv 3x3 56x56x64>64, % of peak', find(rows, 'qs8_conv', CONV_3X3, 1), 'qs8_conv 3x3');
  const conv1 = percentOfPeak('int8 conv 1x1 56x56x128>128, % of peak', find(rows, 'qs8_conv', CONV_1X1, 1), 'qs8_conv 1x1');
  ratios.push(gemmPeak, conv3, conv1);

  // int8 GEMM against our own float32 GEMM on the same shape.
  const f32Row = find(rows, 'f32_gemm', GEMM_LARGE, 1);
  const vsFloat: Ratio =
    gemmRow && f32Row
      ? {
          name: 'int8 GEMM M=128 K=N=1024 vs our float32 GEMM (time ratio)',
          value: f32Row.seconds / gemmRow.seconds,
          unit: 'x',
          detail: `f32_gemm ${f32Row.path} ${us(f32Row.seconds)} / qs8_gemm ${gemmRow.path} ${us(gemmRow.seconds)}`,
        }
      : {
          name: 'int8 GEMM M=128 K=N=1024 vs our float32 GEMM (time ratio)',
          value: null,
          unit: 'x',
          detail: `${gemmRow ? 'f32_gemm' : 'qs8_gemm'} M=128 K=N=1024 was not measured in this run`,
        };
  ratios.push(vsFloat);

  // Hybrid against the int8 GEMM, per shape and input quantization (1 thread).
  const hybridRows = own(rows, 'hybrid_gemm').filter((r) => r.threads === 1 && r.path === mainPath(own(rows, 'hybrid_gemm')));
  const worst = new Map<string, { value: number; row: Row } | undefined>([
    ['true', undefined],
    ['false', undefined],
  ]);
  for (const h of hybridRows) {
    const v = hybridVsInt8(rows, h);
    const asymmetric = asymmetricOf(h);
    ratios.push({
      name: `hybrid vs int8 GEMM time, ${h.shape}`,
      value: v ?? null,
      unit: 'x',
      detail: v === undefined ? 'no int8 GEMM time for this shape' : `${h.path}: hybrid ${us(h.seconds)}, int8 ${us(h.seconds / v)}`,
    });
    const w = worst.get(asymmetric);
    if (v !== undefined && worst.has(asymmetric) && (!w || v > w.value)) worst.set(asymmetric, { value: v, row: h });
  }
  // The shared models' hybrid layers, summarised (their shapes are small: M=1).
  const modelHybrid = rows
    .filter((r) => r.family === 'hybrid_gemm' && r.source === 'model')
    .map((r) => hybridVsInt8(rows, r))
    .filter((v): v is number => v !== undefined);
  if (modelHybrid.length > 0) {
    const g = Math.exp(modelHybrid.reduce((a, v) => a + Math.log(v), 0) / modelHybrid.length);
    ratios.push({
      name: 'hybrid vs int8 GEMM time, shared models\' hybrid layers',
      value: g,
      unit: 'x',
      detail: `geometric mean of ${modelHybrid.length} (shape, quantization) rows; worst ${Math.max(...modelHybrid).toFixed(2)}x`,
    });
  }

  // Two threads against one, on the large shapes (each family's own bench and main path).
  const twoThread = rows.filter((r) => r.threads === 2 && r.speedup !== null && r.label === r.family && r.source === 'default');
  for (const r of twoThread) {
    ratios.push({ name: `2-thread speed-up, ${r.family} ${r.shape}`, value: r.speedup, unit: 'x', detail: r.path });
  }

  // Depthwise 3x3 C=128 at 56x56 against onnxruntime's QLinearConv, int8 and uint8 activations.
  const dw = find(rows, 'qs8_dwconv', DWCONV_3X3, 1);
  const dwInt8 = peerRatio('depthwise 3x3 C=128 56x56 vs onnxruntime QLinearConv (int8)', dw, dw?.peer, peerCallSeconds);
  const dwUint8 = peerRatio('depthwise 3x3 C=128 56x56 vs onnxruntime QLinearConv (u8)', dw, dw?.peerU8, peerCallSeconds);
  ratios.push(dwInt8, dwUint8);

  // A small kernel call from JS: the GEMM binding when it exists, else quantizeTensor.
  const call = overheads.find((o) => o.key === 'Qs8Gemm.run') ?? overheads.find((o) => o.key === 'quantizeTensor');
  const jsCall: Ratio = call
    ? { name: 'small kernel call from JS', value: call.nanoseconds / 1000, unit: 'us', detail: call.call }
    : { name: 'small kernel call from JS', value: null, unit: 'us', detail: 'the addon did not load (npm run build:native)' };
  ratios.push(jsCall);

  // The AVX2-only path against its own peak (the int8 GEMM M=128 K=N=1024 on avx2; run.ts times
  // it on avx2 as well when the machine's best path is another).
  const avx2Name = 'AVX2 path, int8 GEMM M=128 K=N=1024, % of the avx2 peak';
  const avx2Row = find(rows, 'qs8_gemm', GEMM_LARGE, 1, 'avx2');
  const avx2: Ratio = !avx2Row
    ? { name: avx2Name, value: null, unit: '%', detail: 'qs8_gemm was not measured on avx2 in this run' }
    : avx2Row.peak?.path !== 'avx2'
      ? { name: avx2Name, value: null, unit: '%', detail: 'no avx2 int8 peak measurement' }
      : percentOfPeak(avx2Name, avx2Row, 'qs8_gemm on avx2');
  if (avx2Row !== gemmRow) ratios.push(avx2);

  targets.push(
    target('int8 GEMM M=128 K=N=1024, % of its path\'s int8 peak', '>= 65%', gemmPeak, (v) => v >= 65),
    target('int8 GEMM M=128 K=N=1024 vs our float32 GEMM', '>= 3.5x', vsFloat, (v) => v >= 3.5),
    target('int8 conv 3x3, % of peak', '>= 65%', conv3, (v) => v >= 65),
    target('int8 conv 1x1, % of peak', '>= 60%', conv1, (v) => v >= 60),
    target('depthwise 3x3 C=128 56x56 vs onnxruntime QLinearConv (int8)', '>= 4x', dwInt8, (v) => v >= 4),
    target('depthwise 3x3 C=128 56x56 vs onnxruntime QLinearConv (u8)', '>= 4x', dwUint8, (v) => v >= 4),
  );
  for (const [asymmetric, label] of [
    ['true', 'asymmetric'],
    ['false', 'symmetric'],
  ] as const) {
    const w = worst.get(asymmetric);
    const count = hybridRows.filter((h) => asymmetricOf(h) === asymmetric);
    const met = count.filter((h) => (hybridVsInt8(rows, h) ?? Infinity) <= 1.15).length;
    targets.push(
      target(
        `hybrid GEMM time vs int8 GEMM (${label} inputs, worst shape)`,
        '<= 1.15x',
        w
          ? { name: '', value: w.value, unit: 'x', detail: `${w.row.path} ${w.row.shape}; ${met} of ${count.length} shapes within 1.15x` }
          : { name: '', value: null, unit: 'x', detail: 'hybrid_gemm was not measured in this run' },
        (v) => v <= 1.15,
      ),
    );
  }
  targets.push(target('small kernel call from JS', '<= 3 us', jsCall, (v) => v <= 3));
  const speedups = twoThread.map((r) => r.speedup as number);
  const worstTwo = twoThread.reduce<Row | undefined>((a, r) => (!a || (r.speedup ?? 0) < (a.speedup ?? 0) ? r : a), undefined);
  targets.push(
    target(
      'two threads vs one on the large shapes (worst shape)',
      '>= 1.7x',
      worstTwo
        ? {
            name: '',
            value: worstTwo.speedup,
            unit: 'x',
            detail:
              `${worstTwo.family} ${worstTwo.shape} (${worstTwo.path}); ${speedups.filter((s) => s >= 1.7).length} of ` +
              `${speedups.length} 2-thread rows >= 1.7x, geometric mean ` +
              `${Math.exp(speedups.reduce((a, s) => a + Math.log(s), 0) / speedups.length).toFixed(2)}x; ` +
              `families with 2-thread rows: ${[...new Set(twoThread.map((r) => r.family))].join(', ')}`,
          }
        : { name: '', value: null, unit: 'x', detail: 'no 2-thread rows in this run (one core, or cut by the time budget)' },
      (v) => v >= 1.7,
    ),
  );
  targets.push(target('the AVX2-only path, % of its own peak (int8 GEMM M=128 K=N=1024)', '>= 60%', avx2, (v) => v >= 60));
  return { ratios, targets };
}

/**
 * The runtime targets of issue 5 (one thread): int8 ResNet-8 and VWW against our own float run
 * and against LiteRT.js WASM on the same file; load + first inference of the largest model.
 */
export function computeRuntimeTargets(r: RuntimeResult): Target[] {
  const targets: Target[] = [];
  for (const family of ['ResNet-8', 'VWW MobileNetV1-0.25']) {
    const t = r.twins.find((x) => x.family === family);
    const f = (v: number | null): string => (v === null ? '-' : `${v.toFixed(3)} ms`);
    const missing = (what: string): string => `${what} not measured (see the runtime table)`;
    targets.push(
      target(
        `int8 ${family} vs our float run`,
        '>= 2.5x',
        {
          name: '',
          value: t?.int8VsOurFloat ?? null,
          unit: 'x',
          detail:
            t && t.interleaved
              ? `our float ${f(t.interleaved.floatMs)} / our int8 ${f(t.interleaved.int8Ms)}, ${t.interleaved.runs} interleaved runs each`
              : missing('a median'),
        },
        (v) => v >= 2.5,
      ),
      target(
        `int8 ${family} vs LiteRT.js WASM on the same file`,
        '>= 5x',
        {
          name: '',
          value: t?.oursVsWasmInt8 ?? null,
          unit: 'x',
          detail: t && t.oursVsWasmInt8 !== null ? `WASM ${f(t.wasmInt8Ms)} / ours ${f(t.oursInt8Ms)}` : missing('a median'),
        },
        (v) => v >= 5,
      ),
    );
  }
  // Both ways of loading: the default (a worker thread, whose start is most of the time) and
  // on the calling thread (worker: false).
  const l = r.largest;
  const name = `load + first inference, largest model${l ? ` (${l.model.replace(/\.tflite$/, '')}, ${(l.bytes / 1e6).toFixed(2)} MB)` : ''}`;
  const why = !l ? 'no shared models' : `did not load: ${l.error}`;
  const largest = 'the issue names a 1.9 MB model: the largest here is this one';
  targets.push(
    target(
      `${name}, worker thread`,
      '< 50 ms',
      {
        name: '',
        value: l?.totalMs ?? null,
        unit: 'ms',
        detail: l && l.totalMs !== null ? `load ${l.loadMs?.toFixed(1)} + first ${l.firstMs?.toFixed(1)} ms; ${largest}` : why,
      },
      (v) => v < 50,
    ),
    target(
      `${name}, worker: false`,
      '< 50 ms',
      {
        name: '',
        value: l?.inThreadTotalMs ?? null,
        unit: 'ms',
        detail: l && l.inThreadTotalMs !== null ? `the first load of the file on the calling thread (runtime table)` : why,
      },
      (v) => v < 50,
    ),
  );
  return targets;
}

/**
 * The quantizer's speed target of issue 6: ResNet-8 int8 with 100 calibration samples, end to
 * end, under 2 s: quantize() from files with the default method (minmax) and the slowest
 * method, and the CLI as a process.
 */
export function computeQuantizeTargets(r: QuantizeResult): Target[] {
  const int8 = r.rows.filter((x) => x.model === RESNET8 && x.mode === 'int8');
  const minmax = int8.find((x) => x.method === 'minmax');
  const timed = int8.filter((x) => x.totalMs !== null);
  const slowest = timed.reduce<(typeof timed)[number] | undefined>((a, x) => (!a || (x.totalMs ?? 0) > (a.totalMs ?? 0) ? x : a), undefined);
  const none = `ResNet-8 int8 was not measured in this run (needs ../shared models and data)`;
  const name = `quantize ResNet-8 int8, ${CALIBRATION_SAMPLES} samples, end to end`;
  return [
    target(
      `${name} (quantize(), minmax)`,
      '< 2 s',
      {
        name: '',
        value: minmax?.totalMs ?? null,
        unit: 'ms',
        detail: minmax ? (minmax.error ?? `calibration ${minmax.calibrationMs?.toFixed(0)} ms of it; median of ${minmax.runs}`) : none,
      },
      (v) => v < 2000,
    ),
    target(
      `${name} (quantize(), slowest method)`,
      '< 2 s',
      { name: '', value: slowest?.totalMs ?? null, unit: 'ms', detail: slowest ? `${slowest.method}; calibration ${slowest.calibrationMs?.toFixed(0)} ms of it` : none },
      (v) => v < 2000,
    ),
    target(
      `${name} (the CLI process)`,
      '< 2 s',
      {
        name: '',
        value: r.cli?.ms ?? null,
        unit: 'ms',
        detail: r.cli === null ? none : (r.cli.error ?? `Node start, addon load and the file write included; median of ${r.cli.runs}`),
      },
      (v) => v < 2000,
    ),
  ];
}

/**
 * The LSTM targets of issue 7 (H=256, I=128, T=50, batch 1, one thread): hybrid and full-int8
 * each at least 3x our float LSTM, from the medians of one round-robin run of the three.
 */
export function computeLstmTargets(r: LstmResult): Target[] {
  const issue = r.rows.filter((x) => x.group === 'issue' && x.engine === 'litequant');
  const float = issue.find((x) => x.kind === 'float');
  const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(2)} ms`);
  return (['hybrid', 'int8'] as const).map((kind) => {
    const row = issue.find((x) => x.kind === kind);
    const measured = row?.vsFloat !== null && row?.vsFloat !== undefined && float?.latency;
    return target(
      `${kind === 'int8' ? 'full-int8' : 'hybrid'} LSTM H=${r.shape.hidden} I=${r.shape.input} T=${r.shape.time} vs our float LSTM`,
      '>= 3x',
      {
        name: '',
        value: measured ? (row.vsFloat as number) : null,
        unit: 'x',
        detail: measured
          ? `float ${ms(float.latency?.medianMs)} [${float.impl}] / ${kind} ${ms(row.latency?.medianMs)} [${row.impl}]; model: ${row.model}`
          : `not measured (${row?.error ?? float?.error ?? 'see the LSTM table'})`,
      },
      (v) => v >= 3,
    );
  });
}

function formatValue(value: number | null, unit: Ratio['unit']): string {
  if (value === null) return '-';
  if (unit === '%') return `${value.toFixed(1)}%`;
  if (unit === 'us') return `${value.toFixed(2)} us`;
  if (unit === 'ms') return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)}x`;
}

export function ratioLines(ratios: readonly Ratio[]): string[] {
  const width = Math.max(...ratios.map((r) => r.name.length));
  return ratios.map((r) => `  ${r.name.padEnd(width)}  ${formatValue(r.value, r.unit).padStart(9)}  ${r.detail}`);
}

export function targetLines(targets: readonly Target[]): string[] {
  const width = Math.max(...targets.map((t) => t.name.length));
  return targets.map((t) => {
    const verdict = t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED';
    return `  ${t.name.padEnd(width)}  ${t.goal.padStart(8)}  ${formatValue(t.value, t.unit).padStart(9)}  ${verdict.padEnd(12)}  ${t.detail}`;
  });
}
