// The printed table and the summary lines of a benchmark run.
import type { BenchLine } from './native.js';

export interface PeerResult {
  readonly op: string | null;
  readonly seconds?: number;
  readonly gops?: number;
  readonly runs?: number;
  readonly skipped?: string;
}

export interface Row {
  readonly family: string;
  /** The bench binary that printed it. */
  readonly bench: string;
  /** The family, plus the bench when it is not the family's own (hybrid_bench's qs8_gemm). */
  readonly label: string;
  /** The micro-kernel the bench names, when it does. */
  readonly kernel: string | null;
  readonly path: string;
  readonly shape: string;
  /** 'default' for the bench's own shapes, else the model layers that have this shape. */
  readonly source: 'default' | 'model';
  readonly layers: readonly string[];
  readonly threads: number;
  readonly ops: number;
  readonly seconds: number;
  readonly gops: number;
  /** The peak this row is compared with (same kind, path and thread count when measured). */
  readonly peak: { readonly path: string; readonly instruction: string; readonly gops: number } | null;
  readonly peer: PeerResult | null;
  /** The int8 families' peer with uint8 activations (onnxruntime's fast x86 pairing). */
  readonly peerU8: PeerResult | null;
  /** 2-thread rows: this row's GOPS over the 1-thread row's. */
  readonly speedup: number | null;
  /** The bench's JSON line as printed. */
  readonly line: BenchLine;
}

function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function peakTable(peaks: readonly BenchLine[]): string {
  const rows = peaks.map((p) => [
    String(p['kind'] ?? ''),
    p.path,
    `${String(p['instruction'] ?? '')} ${String(p['register'] ?? '')}`.trim(),
    String(p.threads),
    fixed(p.gops, 1),
  ]);
  return table(['kind', 'path', 'instruction', 'threads', 'GOPS'], rows, new Set([3, 4]));
}

/**
 * peerCallSeconds: onnxruntime's cost of a trivial call; a peer time under 3x that is mostly
 * binding overhead, and its ratio is marked with '*'.
 */
export function resultTable(rows: readonly Row[], peerCallSeconds: number | null): string {
  const ratio = (r: Row, p: PeerResult | null): string => {
    if (p?.seconds === undefined) return '-';
    const bound = peerCallSeconds !== null && p.seconds < 3 * peerCallSeconds;
    return `${fixed(p.seconds / r.seconds, 2)}x${bound ? '*' : ''}`;
  };
  const cells = rows.map((r) => [
    r.label,
    r.shape,
    r.path,
    String(r.threads),
    fixed(r.gops, 2),
    r.peak ? `${fixed((100 * r.gops) / r.peak.gops, 1)}%` : '-',
    r.peer?.gops !== undefined ? fixed(r.peer.gops, 2) : '-',
    ratio(r, r.peer),
    r.peerU8?.gops !== undefined ? fixed(r.peerU8.gops, 2) : '',
    r.peerU8 ? ratio(r, r.peerU8) : '',
    r.speedup !== null ? `${fixed(r.speedup, 2)}x` : '',
    shortLayers(r.layers),
  ]);
  return table(
    ['kernel', 'shape', 'path', 'thr', 'GOPS', '% peak', 'ORT GOPS', 'vs ORT', 'ORT u8 GOPS', 'vs ORT u8', '2t speed-up', 'layers'],
    cells,
    new Set([3, 4, 5, 6, 7, 8, 9, 10]),
  );
}

// ["vww_..._int8_official#13", "vww_..._int8_official#15"] -> "vww_..._int8#13,15"; more than
// two models: "+N".
function shortLayers(layers: readonly string[]): string {
  const byModel = new Map<string, string[]>();
  for (const layer of layers) {
    const [model = '', op = ''] = layer.split('#');
    const name = model.replace(/_official$/, '');
    byModel.set(name, [...(byModel.get(name) ?? []), op]);
  }
  const parts = [...byModel].map(([name, ops]) => `${name}#${[...new Set(ops)].join(',')}`);
  return parts.length <= 2 ? parts.join(' ') : `${parts.slice(0, 2).join(' ')} +${parts.length - 2}`;
}

/**
 * Geometric mean of ours/peer speed per family, path and thread count, over the rows whose peer
 * time is at least 3x its per-call binding cost (the others measure that cost); a family's rows
 * from another family's bench are left out. `activations` picks the int8 ops' peer: int8 (the
 * default peer) or uint8 (the variant).
 */
export function peerSummary(rows: readonly Row[], activations: 'int8' | 'uint8', peerCallSeconds: number | null): string[] {
  const groups = new Map<string, { logs: number[]; bound: number }>();
  for (const r of rows) {
    const p = activations === 'int8' ? r.peer : r.peerU8;
    if (p?.seconds === undefined || r.label !== r.family) continue;
    const key = `${r.family} ${r.path}, ${r.threads} thread${r.threads > 1 ? 's' : ''} (vs ${p.op})`;
    const group = groups.get(key) ?? { logs: [], bound: 0 };
    if (peerCallSeconds !== null && p.seconds < 3 * peerCallSeconds) group.bound++;
    else group.logs.push(Math.log(p.seconds / r.seconds));
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, { logs, bound }]) => {
    const left = bound > 0 ? `; ${bound} binding-bound shape${bound > 1 ? 's' : ''} left out` : '';
    if (logs.length === 0) return `  ${key}: -${left}`;
    const g = Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length);
    return `  ${key}: ${g.toFixed(2)}x onnxruntime's speed (geometric mean of ${logs.length} shape${logs.length > 1 ? 's' : ''}${left})`;
  });
}
