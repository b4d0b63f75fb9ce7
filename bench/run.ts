// npm run bench: the benchmark harness (not part of npm test).
//
//  1. builds native/bench/*_bench.cc with CMake (Release, build-bench/);
//  2. measures the machine's peak (peak_bench, 1 and 2 threads; again at the end, keeping the best);
//  3. runs every other *_bench binary that built: 1 thread, then 2 threads for the large shapes;
//  4. passes the layer shapes of ../shared/models to the benches that accept --shape;
//  5. runs the peer, onnxruntime-node, on the same shapes and thread counts;
//  6. measures the JS call overhead of tiny kernels through the addon;
//  7. runs the shared models whole in our runtime and in LiteRT.js WASM (runtime.ts);
//  8. times the quantizer end to end on the shared float models (quantize.ts);
//  8b. times the LSTM of issue 7 (H=256, I=128, T=50): ours float, hybrid and int8 beside
//     onnxruntime's LSTM and DynamicQuantizeLSTM, and mnist_lstm (lstm.ts);
//  9. prints a table, the ratios and targets (targets.ts), and writes
//     bench/results/<iso-date>-<short-commit>.json.
//
// Options: --no-build (reuse build-bench/), --no-peer, --no-models, --isa PATH (LITEQUANT_ISA
// for the native benches), --only REGEX (families; `--only runtime` runs the runtime section
// alone, and it runs with any REGEX that matches "runtime"; likewise `--only quantize` and
// `--only lstm`, and `--only 'runtime|quantize'` runs both), --budget SECONDS (default 330; later
// steps are cut short to stay within it). Progress goes to stderr, the report to stdout.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { capabilities, quantizeTensor } from 'litequant';
import type { Capabilities } from 'litequant';

import { scanModels, type ModelLayer } from './models.js';
import { benchSources, buildBenches, runBench, type BenchBinary, type BenchLine, type RunResult } from './native.js';
import { hasUint8Variant, loadPeer, type Activations, type Peer } from './peer.js';
import { peakTable, peerSummary, resultTable, type PeerResult, type Row } from './report.js';
import { lstmReport, measureLstm, type LstmResult } from './lstm.js';
import { measureQuantize, quantizeReport, type QuantizeResult } from './quantize.js';
import { measureRuntime, runtimeReport, type RuntimeResult } from './runtime.js';
import { computeLstmTargets, computeQuantizeTargets, computeRuntimeTargets, computeTargets, ratioLines, targetLines, type CallOverhead, type Target } from './targets.js';
import {
  describeRawShape,
  describeShape,
  familyPeakKind,
  normalizeShape,
  shapeKey,
  shapeOps,
  shapeVariant,
  type LayerShape,
} from './shapes.js';

// build-bench/js/run.js -> the package root.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildDir = join(root, 'build-bench');
const started = Date.now();

// ---- options ----------------------------------------------------------------------------------

interface Options {
  build: boolean;
  peer: boolean;
  models: boolean;
  isa: string | null;
  only: RegExp | null;
  budget: number;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { build: true, peer: true, models: true, isa: null, only: null, budget: 330 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`Expected a value after ${arg}`);
      return v;
    };
    if (arg === '--no-build') o.build = false;
    else if (arg === '--no-peer') o.peer = false;
    else if (arg === '--no-models') o.models = false;
    else if (arg === '--isa') o.isa = value();
    else if (arg === '--only') o.only = new RegExp(value());
    else if (arg === '--budget') {
      const v = value();
      o.budget = Number(v);
      if (!(o.budget > 0)) throw new Error(`Expected a positive number of seconds for --budget but received ${v}`);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(
        'npm run bench [-- --no-build] [--no-peer] [--no-models] [--isa PATH] [--only REGEX|runtime|quantize|lstm] [--budget SECONDS]\n',
      );
      process.exit(0);
    } else throw new Error(`Unknown option ${arg} (see --help)`);
  }
  return o;
}

const options = parseOptions(process.argv.slice(2));
// `--only runtime` is the runtime section alone; any other REGEX selects kernel families, and
// the runtime section runs too when the REGEX matches "runtime".
const runtimeWanted = options.only === null || options.only.test('runtime');
const quantizeWanted = options.only === null || options.only.test('quantize');
const lstmWanted = options.only === null || options.only.test('lstm');
const kernelsWanted = options.only === null || !/^\^?\(?(runtime|quantize|lstm)(\|(runtime|quantize|lstm))*\)?\$?$/.test(options.only.source);
// The LSTM section times onnxruntime unless --no-peer (the kernel steps' peer is off without them).
const lstmPeer = options.peer;
// Seconds kept for the runtime section while the kernel steps run (they cut themselves short
// by remaining()).
let runtimeReserve = runtimeWanted && kernelsWanted ? 50 : 0;
// Likewise for the quantizer section (about 10 s on this machine's models).
let quantizeReserve = quantizeWanted && (kernelsWanted || runtimeWanted) ? 15 : 0;
// And for the LSTM section (20 to 45 s).
let lstmReserve = lstmWanted && (kernelsWanted || runtimeWanted || quantizeWanted) ? 50 : 0;
const elapsed = (): number => (Date.now() - started) / 1000;
const remaining = (): number => options.budget - runtimeReserve - quantizeReserve - lstmReserve - elapsed();
const log = (line: string): void => {
  process.stderr.write(`[${elapsed().toFixed(0).padStart(3)}s] ${line}\n`);
};
const notes: string[] = [];
const note = (text: string): void => {
  notes.push(text);
  log(text.split('\n')[0] ?? text);
};

// Shapes at or above this many ops also run on 2 threads (below it the threading handoff
// dominates, which is not what the column is about).
const LARGE_OPS = 5e7;
const CORES = availableParallelism();
const TWO_THREADS = CORES >= 2;

// ---- machine ----------------------------------------------------------------------------------

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', [...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function compilerVersion(): string | null {
  const cache = join(buildDir, 'CMakeCache.txt');
  if (!existsSync(cache)) return null;
  const m = /^CMAKE_CXX_COMPILER:\w+=(.*)$/m.exec(readFileSync(cache, 'utf8'));
  const compiler = m?.[1] ?? 'c++';
  const r = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : compiler;
}

let caps: Capabilities | null = null;
try {
  caps = capabilities();
} catch (error) {
  note(
    `the addon did not load (${(error as Error).message.split('\n')[0]}): no JS overhead numbers, ` +
      'CPU name from the OS (npm run build:native builds it)',
  );
}

const commit = git(['rev-parse', 'HEAD']);
const status = git(['status', '--porcelain']);
const machine = {
  cpu: caps?.cpu ?? cpus()[0]?.model ?? 'unknown',
  cores: CORES,
  isa: caps?.isa ?? null,
  built: caps?.built ?? null,
  selected: caps?.selected ?? null,
  benchIsa: options.isa ?? process.env['LITEQUANT_ISA'] ?? null,
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  kernel: release(),
  compiler: null as string | null,
  onnxruntime: null as string | null,
  commit,
  dirty: status === null ? null : status.length > 0,
  loadavgStart: loadavg(),
  loadavgEnd: [] as number[],
};
if ((machine.loadavgStart[0] ?? 0) > 0.5) {
  note(
    `the machine is busy (1-minute load average ${machine.loadavgStart[0]?.toFixed(2)} on ${CORES} cores): ` +
      'numbers are low and noisy, 2-thread ones most',
  );
}

// ---- native benches ---------------------------------------------------------------------------

const benchEnv: NodeJS.ProcessEnv = { ...process.env };
if (options.isa !== null) benchEnv['LITEQUANT_ISA'] = options.isa;

let binaries: BenchBinary[] = [];
if (!kernelsWanted) {
  options.models = false;
  options.peer = false;
} else if (options.build) {
  log(`building the native benches (cmake, Release, ${relative(root, buildDir)}/, -j2)`);
  const result = buildBenches(root, buildDir, 2, log);
  binaries = [...result.built];
  result.notes.forEach(note);
} else {
  for (const name of benchSources(root)) {
    const file = join(buildDir, name);
    if (!existsSync(file)) {
      note(`${name}: no binary in ${relative(root, buildDir)}/ (run without --no-build)`);
      continue;
    }
    const help = spawnSync(file, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    binaries.push({ name, file, help: `${help.stdout ?? ''}\n${help.stderr ?? ''}` });
  }
}
machine.compiler = compilerVersion();

const peakBinary = binaries.find((b) => b.name === 'peak_bench');
const kernelBinaries = binaries.filter((b) => b.name !== 'peak_bench');

// Every peak measurement (start and end of the run); the best of each is the peak.
const peakRuns: BenchLine[] = [];
function measurePeak(when: string): void {
  if (!peakBinary) return;
  for (const threads of TWO_THREADS ? [1, 2] : [1]) {
    log(`peak_bench --threads ${threads} (${when})`);
    const r = runBench(peakBinary.file, ['--threads', String(threads)], 60, benchEnv);
    if (!r.ok) note(`peak_bench --threads ${threads} failed: ${r.error}`);
    peakRuns.push(...r.lines.map((l) => ({ ...l, when })));
  }
}

function bestPeaks(): BenchLine[] {
  const best = new Map<string, BenchLine>();
  for (const p of peakRuns) {
    const key = `${String(p['kind'])}|${p.path}|${p.threads}`;
    const old = best.get(key);
    if (!old || p.gops > old.gops) best.set(key, p);
  }
  return [...best.values()];
}

if (peakBinary) measurePeak('start');
else if (kernelsWanted) note('peak_bench is not available: no % of peak column');

interface Measured {
  readonly bench: string;
  readonly line: BenchLine;
  readonly shape: LayerShape | undefined;
  /** Non-geometry shape entries ("asymmetric=true"), '' when none. */
  readonly variant: string;
  readonly source: 'default' | 'model';
}

const measured: Measured[] = [];
const wanted = (family: string): boolean => options.only === null || options.only.test(family);

function measuredOf(b: BenchBinary, line: BenchLine, source: Measured['source']): Measured {
  return {
    bench: b.name,
    line,
    shape: normalizeShape(line.family, line.shape),
    variant: shapeVariant(line.family, line.shape),
    source,
  };
}

// family | geometry (| variant): what identifies a row across thread counts, peers and models.
function geometryKey(family: string, shape: LayerShape | undefined, raw: unknown): string {
  return `${family}|${shape ? shapeKey(shape) : describeRawShape(raw)}`;
}
const rowKey = (m: Measured): string => `${geometryKey(m.line.family, m.shape, m.line.shape)}|${m.variant}`;

// The --shape argument the benches take: MxKxN for GEMM; for convolutions the NHWC geometry as
// key=value pairs (the format native/bench/qs8_conv_bench.cc documents).
function shapeArgument(s: LayerShape): string {
  if (s.kind === 'gemm') return `${s.M}x${s.K}x${s.N}`;
  const channels = s.kind === 'dwconv' ? `DM=${Math.max(1, Math.round(s.OC / s.C))}` : `OC=${s.OC}`;
  return (
    `kind=${s.kind},N=${s.N},H=${s.H},W=${s.W},C=${s.C},${channels},KH=${s.KH},KW=${s.KW},` +
    `SH=${s.SH},SW=${s.SW},DH=${s.DH},DW=${s.DW},padding=${s.padding}`
  );
}

// The path a bench measured besides the reference (benches that time every path print both).
function mainPath(lines: readonly BenchLine[]): string | undefined {
  return lines.find((l) => l.path !== 'reference')?.path ?? lines[0]?.path;
}

// Runs a bench with --shape for each shape when it takes them, with --only-shapes when it can
// (else it prints its own shapes too; `extraOnly` then says whether to run at all), on one path
// when it can (--path), on one family when the shapes all belong to one and the bench can
// (--family: hybrid_bench then skips its int16x8 GEMM). The caller keeps the lines it asked for.
function runShapes(
  b: BenchBinary,
  threads: number,
  shapes: readonly LayerShape[],
  path: string | undefined,
  timeout: number,
  extraOnly: boolean,
  family?: string,
): RunResult {
  const args = ['--threads', String(threads)];
  if (path !== undefined && /--path/.test(b.help)) args.push('--path', path);
  if (family !== undefined && /--family/.test(b.help) && b.help.includes(family)) args.push('--family', family);
  let shown = args.join(' ');
  const onlyShapes = /--only-shapes/.test(b.help);
  if (/--shape/.test(b.help) && (onlyShapes || !extraOnly)) {
    if (onlyShapes) args.push('--only-shapes');
    for (const s of shapes) args.push('--shape', shapeArgument(s));
    shown += `${onlyShapes ? ' --only-shapes' : ''} [${shapes.length} --shape]`;
  }
  log(`${b.name} ${shown}`);
  return runBench(b.file, args, timeout, benchEnv);
}

const defaultLines = new Map<BenchBinary, BenchLine[]>();
for (const b of kernelBinaries) {
  // Each bench times every shape for ~0.3 s; allow for many shapes, but not forever.
  const timeout = Math.max(30, Math.min(150, remaining() - 60));
  log(`${b.name} --threads 1`);
  const one = runBench(b.file, ['--threads', '1'], timeout, benchEnv);
  if (!one.ok) note(`${b.name} --threads 1 failed: ${one.error}`);
  const lines = one.lines.filter((l) => wanted(l.family));
  defaultLines.set(b, [...one.lines]);
  measured.push(...lines.map((l) => measuredOf(b, l, 'default')));
  // 2 threads: the large shapes, on the bench's main path.
  const path = mainPath(lines);
  const large = lines.filter((l) => l.ops >= LARGE_OPS && l.path === path).map((l) => measuredOf(b, l, 'default'));
  if (!TWO_THREADS || large.length === 0) continue;
  if (remaining() < 90) {
    note(`${b.name}: 2-thread run skipped to stay within the time budget`);
    continue;
  }
  const largeKeys = new Set(large.map(rowKey));
  const shapes = new Map(large.filter((m) => m.shape).map((m) => [shapeKey(m.shape as LayerShape), m.shape as LayerShape]));
  const two = runShapes(b, 2, [...shapes.values()], path, timeout, true);
  if (!two.ok) note(`${b.name} --threads 2 failed: ${two.error}`);
  for (const line of two.lines) {
    const m = measuredOf(b, line, 'default');
    if (line.threads === 2 && line.path === path && largeKeys.has(rowKey(m))) measured.push(m);
  }
}
if (kernelBinaries.length === 0 && kernelsWanted) note('no kernel bench binaries (native/bench/*_bench.cc other than peak_bench) built yet');

// The AVX2-only target: when the int8 GEMM bench ran another path (AVX-512 VNNI, say) and avx2 is
// built and supported (peak_bench measured it), time M=128 K=N=1024 on avx2 as well.
const GEMM_TARGET: LayerShape = { kind: 'gemm', M: 128, K: 1024, N: 1024 };
const gemmBench = kernelBinaries.find((b) => b.name === 'qs8_gemm_bench');
if (gemmBench && wanted('qs8_gemm') && options.isa === null && peakRuns.some((p) => p.path === 'avx2')) {
  const ran = mainPath(defaultLines.get(gemmBench) ?? []);
  if (ran !== undefined && ran !== 'avx2' && /--path/.test(gemmBench.help)) {
    const r = runShapes(gemmBench, 1, [GEMM_TARGET], 'avx2', 30, true);
    if (!r.ok) note(`qs8_gemm_bench on avx2 failed: ${r.error}`);
    const key = shapeKey(GEMM_TARGET);
    for (const line of r.lines) {
      const m = measuredOf(gemmBench, line, 'default');
      if (line.family === 'qs8_gemm' && line.path === 'avx2' && m.shape && shapeKey(m.shape) === key) measured.push(m);
    }
  }
}

// The bench that owns a family: the one named after it (qs8_gemm_bench for qs8_gemm, though
// hybrid_bench prints qs8_gemm too as its baseline), else the first that printed it.
const familyOwner = new Map<string, BenchBinary>();
for (const [b, lines] of defaultLines) {
  for (const family of new Set(lines.map((l) => l.family))) {
    const current = familyOwner.get(family);
    if (!current || (b.name === `${family}_bench` && current.name !== `${family}_bench`)) familyOwner.set(family, b);
  }
}

// ---- model layer shapes -----------------------------------------------------------------------

// Which family runs a model layer of this op kind and element type.
function familyFor(layer: ModelLayer): string | undefined {
  const prefix = { int8: 'qs8', f32: 'f32', hybrid: 'hybrid', int16x8: 'qs16', other: undefined }[layer.dtype];
  if (prefix === undefined) return undefined;
  if (layer.shape.kind === 'gemm') return `${prefix}_gemm`;
  if (prefix === 'qs8' || prefix === 'f32') return `${prefix}_${layer.shape.kind}`;
  if (prefix === 'hybrid' && layer.shape.kind === 'conv') return 'hybrid_conv';
  return undefined;
}

const layersByKey = new Map<string, string[]>(); // geometryKey -> "model#operator"
let modelLayers: readonly ModelLayer[] = [];
if (options.models) {
  const sharedModels = process.env['LITEQUANT_SHARED']
    ? join(process.env['LITEQUANT_SHARED'], 'models')
    : resolve(root, '..', 'shared', 'models');
  const scan = scanModels(sharedModels);
  scan.notes.forEach(note);
  modelLayers = scan.layers;
  const noFamily = new Map<string, number>();
  const perBinary = new Map<BenchBinary, Map<string, LayerShape>>();
  const familiesOf = new Map<BenchBinary, Set<string>>();
  const measuredKeys = new Set(measured.map((m) => geometryKey(m.line.family, m.shape, m.line.shape)));
  for (const layer of scan.layers) {
    const family = familyFor(layer);
    if (family === undefined) {
      const what = `${layer.dtype} ${layer.op}`;
      noFamily.set(what, (noFamily.get(what) ?? 0) + 1);
      continue;
    }
    if (!wanted(family)) continue;
    const key = geometryKey(family, layer.shape, undefined);
    const list = layersByKey.get(key) ?? [];
    list.push(`${layer.model}#${layer.operator}`);
    layersByKey.set(key, list);
    const b = familyOwner.get(family);
    if (!b || measuredKeys.has(key)) continue; // no bench, or one of the bench's own shapes
    const shapes = perBinary.get(b) ?? new Map<string, LayerShape>();
    shapes.set(key, layer.shape);
    perBinary.set(b, shapes);
    familiesOf.set(b, (familiesOf.get(b) ?? new Set<string>()).add(family));
  }
  for (const [what, count] of noFamily) note(`${count} ${what} model layer(s): no bench family measures them`);
  for (const family of new Set([...layersByKey.keys()].map((k) => k.split('|')[0] ?? ''))) {
    if (!familyOwner.has(family)) note(`${family}: model layers found but no bench printed this family`);
  }
  for (const [b, shapes] of perBinary) {
    if (!/--shape/.test(b.help)) {
      note(`${b.name} does not take --shape: its model layer shapes are not measured`);
      continue;
    }
    if (remaining() < 60) {
      note(`${b.name}: model layer shapes skipped to stay within the time budget`);
      continue;
    }
    const path = mainPath(defaultLines.get(b) ?? []);
    const families = [...(familiesOf.get(b) ?? [])];
    const r = runShapes(b, 1, [...shapes.values()], path, Math.max(30, remaining() - 40), false, families.length === 1 ? families[0] : undefined);
    if (!r.ok) note(`${b.name} with model shapes failed: ${r.error}`);
    for (const line of r.lines) {
      const m = measuredOf(b, line, 'model');
      // Only the model shapes (a bench without --only-shapes prints its defaults again).
      if (!wanted(line.family) || line.path !== path || familyOwner.get(line.family) !== b) continue;
      if (shapes.has(geometryKey(line.family, m.shape, line.shape))) measured.push(m);
    }
  }
}

// ---- the peer ---------------------------------------------------------------------------------

let peer: Peer | null = null;
if (options.peer) {
  try {
    peer = loadPeer();
    machine.onnxruntime = peer.version;
  } catch (error) {
    note(`onnxruntime-node did not load (${(error as Error).message.split('\n')[0]}): no peer column`);
  }
}

const peerCache = new Map<string, PeerResult>();
async function peerFor(m: Measured, activations: Activations): Promise<PeerResult | null> {
  if (!peer) return null;
  if (!m.shape) return { op: null, skipped: `shape not recognised: ${describeRawShape(m.line.shape)}` };
  const key = `${geometryKey(m.line.family, m.shape, m.line.shape)}|${m.line.threads}|${activations}`;
  const cached = peerCache.get(key);
  if (cached) return cached;
  if (remaining() < 20) return { op: null, skipped: 'time budget exhausted' };
  // Model layers are small: a shorter budget still gives hundreds of runs.
  const budget = m.source === 'model' ? 0.12 : 0.25;
  const t = await peer.time(m.line.family, m.shape, m.line.threads, budget, activations);
  const result: PeerResult =
    'seconds' in t ? { op: t.op, seconds: t.seconds, runs: t.runs, gops: (shapeOps(m.shape) / t.seconds) * 1e-9 } : t;
  peerCache.set(key, result);
  return result;
}

let peerOverhead: number | null = null;
if (peer) {
  log(`onnxruntime ${peer.version} on ${new Set(measured.map((m) => `${m.line.family}|${m.shape ? shapeKey(m.shape) : ''}|${m.line.threads}`)).size} shapes`);
  peerOverhead = await peer.callOverhead();
}

const peerByRow = new Map<Measured, PeerResult | null>();
const peerU8ByRow = new Map<Measured, PeerResult | null>();
for (const m of measured) {
  const result = await peerFor(m, 'int8');
  peerByRow.set(m, result);
  if (result?.skipped && !notes.some((n) => n.includes(result.skipped ?? ''))) {
    note(`onnxruntime, ${m.line.family}: ${result.skipped}`);
  }
}
// The uint8-activation variant second, so that a tight budget cuts it rather than the int8 peer.
for (const m of measured) {
  if (hasUint8Variant(m.line.family)) peerU8ByRow.set(m, await peerFor(m, 'uint8'));
}

// ---- JS call overhead through the addon -------------------------------------------------------

type Overhead = CallOverhead;

// Per-call time of the fastest of 7 batches of ~20 ms each (the one least disturbed by other
// processes), after a warm-up for the JIT.
function perCall(fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn();
  let batch = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns > 5e6 || batch > 1e7) {
      batch = Math.max(1000, Math.round((batch * 2e7) / ns));
      break;
    }
    batch *= 4;
  }
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  return Math.min(...samples);
}

// The part of lib/native/gemm.ts the runner uses (loaded only when it exists).
interface GemmModule {
  packQs8Gemm(options: { weights: Int8Array; n: number; k: number; scale: number; inputZeroPoint?: number }): {
    run(a: Int8Array, m?: number, output?: Int8Array): Int8Array;
    readonly kernel?: string;
  };
}

async function gemmOverhead(): Promise<Overhead | null> {
  const file = join(root, 'dist', 'native', 'gemm.js');
  if (!existsSync(file)) return null;
  try {
    const mod = (await import(pathToFileURL(file).href)) as Partial<GemmModule>;
    if (typeof mod.packQs8Gemm !== 'function') return null;
    const gemm = mod.packQs8Gemm({ weights: new Int8Array(16 * 16).fill(3), n: 16, k: 16, scale: 0.01, inputZeroPoint: -2 });
    const a = new Int8Array(16).fill(5);
    const c = new Int8Array(16);
    return {
      key: 'Qs8Gemm.run',
      call: `Qs8Gemm.run 1x16x16, output preallocated (lib/native/gemm.ts${gemm.kernel ? `, ${gemm.kernel}` : ''})`,
      nanoseconds: perCall(() => gemm.run(a, 1, c)),
    };
  } catch (error) {
    note(`the GEMM binding (lib/native/gemm.ts) could not be timed: ${(error as Error).message.split('\n')[0]}`);
    return null;
  }
}

const overheads: Overhead[] = [];
if (caps && kernelsWanted) {
  log('JS call overhead');
  const x = new Float32Array(16).map((_, i) => (i - 8) * 0.37);
  overheads.push({
    key: 'quantizeTensor',
    call: 'quantizeTensor(16 floats) (lib/native/quantize.ts: validation, output allocation, addon call)',
    nanoseconds: perCall(() => quantizeTensor(x, { scale: 0.05, zeroPoint: 3 })),
  });
  // The bare addon call with everything prepared: the N-API cost plus the argument checks.
  const nativeIndex = (await import(pathToFileURL(join(root, 'dist', 'native', 'index.js')).href)) as typeof import('../dist/native/index.js');
  const binding = nativeIndex.native();
  const out = new Int8Array(16);
  const scales = new Float32Array([0.05]);
  const zeroPoints = new Int32Array([3]);
  overheads.push({
    key: 'binding.quantizeInt8',
    call: 'binding.quantizeInt8(16 floats) (the addon call alone)',
    nanoseconds: perCall(() => binding.quantizeInt8(x, out, scales, zeroPoints, 1, 1, 16, -128, 127)),
  });
  const gemm = await gemmOverhead();
  if (gemm) overheads.push(gemm);
}

// ---- the runtime: whole models, ours and LiteRT.js WASM ---------------------------------------

let runtime: RuntimeResult | null = null;
let runtimeTargets: Target[] = [];
if (runtimeWanted) {
  runtimeReserve = 0;
  const shared = process.env['LITEQUANT_SHARED'] ?? resolve(root, '..', 'shared');
  if (!existsSync(join(shared, 'models'))) {
    note(`runtime: ${join(shared, 'models')} is absent (set LITEQUANT_SHARED): no runtime section`);
  } else {
    // Kept short: the end-of-run peak still needs ~10 s.
    const budget = Math.max(20, Math.min(70, remaining() - 12));
    log(`runtime section (about ${budget.toFixed(0)} s)`);
    runtime = await measureRuntime({ root, shared, budgetSeconds: budget, log, note });
    runtimeTargets = computeRuntimeTargets(runtime);
  }
}

// ---- the quantizer: quantize() end to end on the shared float models ---------------------------

let quantizeResult: QuantizeResult | null = null;
let quantizeTargets: Target[] = [];
if (quantizeWanted) {
  quantizeReserve = 0;
  const shared = process.env['LITEQUANT_SHARED'] ?? resolve(root, '..', 'shared');
  if (!existsSync(join(shared, 'models'))) {
    note(`quantize: ${join(shared, 'models')} is absent (set LITEQUANT_SHARED): no quantizer section`);
  } else {
    const budget = Math.max(15, Math.min(40, remaining() - 10));
    log(`quantizer section (about ${budget.toFixed(0)} s at most)`);
    quantizeResult = await measureQuantize({ root, shared, budgetSeconds: budget, log, note });
    quantizeTargets = computeQuantizeTargets(quantizeResult);
  }
}

// ---- the LSTM (issue 7): ours float, hybrid, int8 and onnxruntime's, on one shape ---------------

let lstm: LstmResult | null = null;
let lstmTargets: Target[] = [];
if (lstmWanted) {
  lstmReserve = 0;
  const shared = process.env['LITEQUANT_SHARED'] ?? resolve(root, '..', 'shared');
  const budget = Math.max(20, Math.min(45, remaining() - 10));
  log(`LSTM section (about ${budget.toFixed(0)} s)`);
  try {
    lstm = await measureLstm({ root, shared, budgetSeconds: budget, peer: lstmPeer, log, note });
    lstmTargets = computeLstmTargets(lstm);
    machine.onnxruntime ??= lstm.onnxruntime;
  } catch (error) {
    note(`lstm: the section failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

// ---- rows -------------------------------------------------------------------------------------

if (peakBinary && remaining() > 10) measurePeak('end');
const peaks = bestPeaks();

function peakFor(family: string, path: string, threads: number): Row['peak'] {
  const kind = familyPeakKind(family);
  const candidates = peaks.filter((p) => p['kind'] === kind && p.threads === threads);
  // The same path's peak when measured; otherwise (reference, or a path without a microbench)
  // the machine's best for that kind.
  const best = candidates.find((p) => p.path === path) ?? [...candidates].sort((a, b) => b.gops - a.gops)[0];
  return best ? { path: best.path, instruction: String(best['instruction'] ?? ''), gops: best.gops } : null;
}

// Table order: family (first seen), bench, path, shape (first seen), threads; so a 2-thread row
// follows its 1-thread row.
const firstSeen = <T>(values: readonly T[]): Map<T, number> => {
  const order = new Map<T, number>();
  values.forEach((v) => order.has(v) || order.set(v, order.size));
  return order;
};
const familyOrder = firstSeen(measured.map((m) => m.line.family));
const benchOrder = firstSeen(measured.map((m) => m.bench));
const pathOrder = firstSeen(measured.map((m) => m.line.path));
const shapeOrder = firstSeen(measured.map((m) => `${m.bench}|${rowKey(m)}`));
const sorted = [...measured].sort(
  (a, b) =>
    (familyOrder.get(a.line.family) ?? 0) - (familyOrder.get(b.line.family) ?? 0) ||
    (benchOrder.get(a.bench) ?? 0) - (benchOrder.get(b.bench) ?? 0) ||
    (pathOrder.get(a.line.path) ?? 0) - (pathOrder.get(b.line.path) ?? 0) ||
    (shapeOrder.get(`${a.bench}|${rowKey(a)}`) ?? 0) - (shapeOrder.get(`${b.bench}|${rowKey(b)}`) ?? 0) ||
    a.line.threads - b.line.threads,
);

const rows: Row[] = sorted.map((m) => {
  const single = measured.find(
    (o) => o.line.threads === 1 && o.bench === m.bench && o.line.path === m.line.path && rowKey(o) === rowKey(m),
  );
  const owner = familyOwner.get(m.line.family);
  return {
    family: m.line.family,
    bench: m.bench,
    label: owner && owner.name !== m.bench ? `${m.line.family} (${m.bench})` : m.line.family,
    kernel: typeof m.line['kernel'] === 'string' ? m.line['kernel'] : null,
    path: m.line.path,
    shape: `${m.shape ? describeShape(m.shape) : describeRawShape(m.line.shape)}${m.variant ? ` ${m.variant}` : ''}`,
    source: m.source,
    layers: layersByKey.get(geometryKey(m.line.family, m.shape, m.line.shape)) ?? [],
    threads: m.line.threads,
    ops: m.line.ops,
    seconds: m.line.seconds,
    gops: m.line.gops,
    peak: peakFor(m.line.family, m.line.path, m.line.threads),
    peer: peerByRow.get(m) ?? null,
    peerU8: peerU8ByRow.get(m) ?? null,
    speedup: m.line.threads > 1 && single ? m.line.gops / single.line.gops : null,
    line: m.line,
  };
});

// ---- report -----------------------------------------------------------------------------------

machine.loadavgEnd = loadavg();
const out = process.stdout;
out.write(
  `\nlitequant benchmarks: ${machine.cpu}, ${machine.cores} cores, selected path ${machine.selected ?? '? (addon not loaded)'}` +
    `${machine.benchIsa ? ` (benches forced to ${machine.benchIsa})` : ''}, node ${machine.node}, ` +
    `commit ${commit?.slice(0, 10) ?? '?'}${machine.dirty ? ' (dirty)' : ''}\n`,
);
out.write(
  `load average at start ${machine.loadavgStart.map((v) => v.toFixed(2)).join(' ')}, at end ` +
    `${machine.loadavgEnd.map((v) => v.toFixed(2)).join(' ')} (other work on the machine lowers the numbers)\n\n`,
);
if (peaks.length > 0) out.write(`Measured peak (peak_bench, best of the start and end of the run)\n${peakTable(peaks)}\n\n`);
const defaults = rows.filter((r) => r.source === 'default');
const fromModels = rows.filter((r) => r.source === 'model');
if (defaults.length > 0) out.write(`Kernels on the benches' shapes\n${resultTable(defaults, peerOverhead)}\n\n`);
if (fromModels.length > 0) out.write(`Kernels on the shared models' layer shapes (1 thread)\n${resultTable(fromModels, peerOverhead)}\n\n`);
const bindingBound = (p: PeerResult | null): boolean =>
  peerOverhead !== null && p?.seconds !== undefined && p.seconds < 3 * peerOverhead;
if (rows.some((r) => bindingBound(r.peer) || bindingBound(r.peerU8))) {
  out.write("* onnxruntime's time is under 3x its per-call cost through its Node binding (below): the ratio mostly measures that cost\n\n");
}
const summary = [...peerSummary(rows, 'int8', peerOverhead), ...peerSummary(rows, 'uint8', peerOverhead)];
if (summary.length > 0) out.write(`Against onnxruntime ${peer?.version ?? ''}\n${summary.join('\n')}\n`);
if (peerOverhead !== null) {
  out.write(`  onnxruntime per-call cost (1x16x16 MatMulInteger through its Node binding): ${(peerOverhead * 1e6).toFixed(1)} us\n`);
}
if (overheads.length > 0) {
  out.write('\nJS call overhead through the addon (per call, best of 7 batches)\n');
  for (const o of overheads) out.write(`  ${(o.nanoseconds / 1000).toFixed(2).padStart(7)} us  ${o.call}\n`);
}
const { ratios, targets } = computeTargets(rows, overheads, peerOverhead);
if (kernelsWanted) {
  out.write(`\nRatios within this run (1 thread unless said)\n${ratioLines(ratios).join('\n')}\n`);
  out.write(`\nTargets (met / MISSED / not measured in this run)\n${targetLines(targets).join('\n')}\n`);
}
if (runtime) {
  out.write(`\n${runtimeReport(runtime)}\n`);
  out.write(`\nRuntime targets, 1 thread (met / MISSED / not measured in this run)\n${targetLines(runtimeTargets).join('\n')}\n`);
}
if (quantizeResult) {
  out.write(`\n${quantizeReport(quantizeResult)}\n`);
  out.write(`\nQuantizer targets (met / MISSED / not measured in this run)\n${targetLines(quantizeTargets).join('\n')}\n`);
}
if (lstm) {
  out.write(`\n${lstmReport(lstm)}\n`);
  out.write(`\nLSTM targets, 1 thread (met / MISSED / not measured in this run)\n${targetLines(lstmTargets).join('\n')}\n`);
}
if (notes.length > 0) out.write(`\nNotes\n${notes.map((n) => `  - ${n.replace(/\n/g, '\n    ')}`).join('\n')}\n`);

const iso = new Date(started).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
const resultsDir = join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `${iso}-${commit?.slice(0, 7) ?? 'nogit'}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      schema: 1,
      date: new Date(started).toISOString(),
      seconds: elapsed(),
      options: { ...options, only: options.only?.source ?? null },
      machine,
      peak: peaks,
      peakRuns,
      results: rows,
      jsOverhead: overheads,
      peerCallOverheadSeconds: peerOverhead,
      ratios,
      targets,
      runtime,
      runtimeTargets,
      quantize: quantizeResult,
      quantizeTargets,
      lstm,
      lstmTargets,
      modelLayers,
      notes,
    },
    null,
    2,
  )}\n`,
);
out.write(`\nwrote ${relative(root, file)} (${elapsed().toFixed(0)} s)\n`);
