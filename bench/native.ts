// Builds the native benchmark binaries with CMake (Release, build-bench/) and runs them. Every
// native/bench/<name>_bench.cc is a target; the runner works with whichever exist and build, so a
// bench that is missing or does not compile yet is reported and skipped, not fatal.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** One line a bench binary prints (peak_bench adds kind/instruction/register). */
export interface BenchLine {
  readonly family: string;
  readonly path: string;
  readonly shape?: unknown;
  readonly threads: number;
  readonly ops: number;
  readonly seconds: number;
  readonly gops: number;
  readonly [extra: string]: unknown;
}

export interface BenchBinary {
  readonly name: string; // e.g. qs8_gemm_bench
  readonly file: string;
  /** Whether its --help output mentions --shape (so model layer shapes can be passed). */
  readonly help: string;
}

export interface BuildResult {
  readonly built: readonly BenchBinary[];
  readonly notes: readonly string[];
}

export interface RunResult {
  readonly lines: readonly BenchLine[];
  readonly stderr: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly error?: string;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** The bench names under native/bench: peak_bench first, then the others sorted. */
export function benchSources(root: string): string[] {
  const dir = join(root, 'native', 'bench');
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('_bench.cc'))
    .map((f) => f.slice(0, -'.cc'.length))
    .sort();
  return [...names.filter((n) => n === 'peak_bench'), ...names.filter((n) => n !== 'peak_bench')];
}

/** Configures build-bench/ and builds each bench target on its own (-j2: the machine is shared). */
export function buildBenches(root: string, buildDir: string, jobs: number, log: (line: string) => void): BuildResult {
  const notes: string[] = [];
  const names = benchSources(root);
  if (names.length === 0) return { built: [], notes: ['native/bench has no *_bench.cc files'] };
  const configure = spawnSync('cmake', ['-S', root, '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release'], {
    encoding: 'utf8',
  });
  if (configure.error || configure.status !== 0) {
    const why = configure.error?.message ?? tail(`${configure.stdout}\n${configure.stderr}`, 15);
    return { built: [], notes: [`cmake configure failed:\n${why}`] };
  }
  const built: BenchBinary[] = [];
  for (const name of names) {
    log(`  building ${name}`);
    const r = spawnSync('cmake', ['--build', buildDir, '--target', name, '-j', String(jobs)], { encoding: 'utf8' });
    const file = join(buildDir, name);
    if (r.error || r.status !== 0 || !existsSync(file)) {
      const why = r.error?.message ?? tail(`${r.stdout}\n${r.stderr}`, 12);
      notes.push(`${name} did not build; skipped:\n${why}`);
      continue;
    }
    const help = spawnSync(file, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    built.push({ name, file, help: `${help.stdout ?? ''}\n${help.stderr ?? ''}` });
  }
  return { built, notes };
}

function isBenchLine(v: unknown): v is BenchLine {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o['family'] === 'string' &&
    typeof o['path'] === 'string' &&
    typeof o['threads'] === 'number' &&
    typeof o['ops'] === 'number' &&
    typeof o['seconds'] === 'number' &&
    typeof o['gops'] === 'number'
  );
}

/** Runs a bench binary and collects its JSON lines (anything else on stdout is ignored). */
export function runBench(file: string, args: readonly string[], timeoutSeconds: number, env?: NodeJS.ProcessEnv): RunResult {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, [...args], {
    encoding: 'utf8',
    timeout: Math.round(timeoutSeconds * 1000),
    maxBuffer: 64 * 1024 * 1024,
    env: env ?? process.env,
  });
  const seconds = Number(process.hrtime.bigint() - t0) * 1e-9;
  const lines: BenchLine[] = [];
  for (const text of (r.stdout ?? '').split('\n')) {
    const trimmed = text.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (isBenchLine(parsed)) lines.push(parsed);
    } catch {
      // not a result line
    }
  }
  const stderr = r.stderr ?? '';
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return { lines, stderr, ok: false, seconds, error: timedOut ? `timed out after ${timeoutSeconds} s` : r.error.message };
  }
  if (r.status !== 0) {
    const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    return { lines, stderr, ok: false, seconds, error: `${how}${stderr ? `: ${tail(stderr, 3)}` : ''}` };
  }
  return { lines, stderr, ok: true, seconds };
}
