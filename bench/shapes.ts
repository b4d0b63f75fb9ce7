// Layer shapes as the benchmark runner understands them: read from the bench binaries' JSON
// "shape" objects (whose key names differ a little between families), from TFLite layers, and
// turned back into --shape arguments and peer models.

export interface GemmShape {
  readonly kind: 'gemm';
  readonly M: number;
  readonly K: number;
  readonly N: number;
}

/** NHWC input [N, H, W, C], OC output channels (C * depth multiplier for depthwise). */
export interface ConvShape {
  readonly kind: 'conv' | 'dwconv';
  readonly N: number;
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly OC: number;
  readonly KH: number;
  readonly KW: number;
  readonly SH: number;
  readonly SW: number;
  readonly DH: number;
  readonly DW: number;
  readonly padding: 'SAME' | 'VALID';
}

export type LayerShape = GemmShape | ConvShape;

/** What a family's kernels compute, from its name: qs8_gemm, f32_dwconv, hybrid_gemm, ... */
export function familyKind(family: string): LayerShape['kind'] | undefined {
  if (/dwconv|depthwise/.test(family)) return 'dwconv';
  if (/conv/.test(family)) return 'conv';
  if (/gemm|matmul|fc|fully/.test(family)) return 'gemm';
  return undefined;
}

/** The element type the family multiplies in, for choosing the peak it is compared with. */
export function familyPeakKind(family: string): 'int8' | 'f32' {
  return family.startsWith('f32') ? 'f32' : 'int8';
}

type Raw = Readonly<Record<string, unknown>>;

// Key names the benches use for each dimension (matched case-insensitively).
const GEMM_KEYS = {
  M: ['M', 'batch', 'rows'],
  K: ['K', 'depth', 'inner'],
  N: ['N', 'cols', 'units', 'outputs'],
} as const;
const CONV_KEYS = {
  N: ['N', 'batch', 'B'],
  H: ['H', 'IH', 'in_h', 'input_h', 'height'],
  W: ['W', 'IW', 'in_w', 'input_w', 'width'],
  C: ['C', 'IC', 'Cin', 'in_c', 'input_c', 'channels'],
  OC: ['OC', 'O', 'Cout', 'out_c', 'output_c', 'outputs'],
  kernel: ['kernel', 'K', 'ksize'],
  KH: ['KH', 'kernel_h'],
  KW: ['KW', 'kernel_w'],
  stride: ['stride', 'S'],
  SH: ['SH', 'stride_h'],
  SW: ['SW', 'stride_w'],
  dilation: ['dilation', 'D'],
  DH: ['DH', 'dilation_h'],
  DW: ['DW', 'dilation_w'],
  DM: ['DM', 'multiplier', 'depth_multiplier'],
  padding: ['padding', 'pad'],
} as const;

function lowerMap(raw: Raw): Map<string, unknown> {
  return new Map(Object.entries(raw).map(([k, v]) => [k.toLowerCase(), v]));
}

// The first key present holding a finite number.
function pick(raw: Map<string, unknown>, names: readonly string[]): number | undefined {
  for (const name of names) {
    const v = raw.get(name.toLowerCase());
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

function pickString(raw: Map<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = raw.get(name.toLowerCase());
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** Reads a bench line's shape object; undefined when its keys are not recognised. */
export function normalizeShape(family: string, raw: unknown): LayerShape | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = lowerMap(raw as Raw);
  const kind = familyKind(family);
  if (kind === 'gemm') {
    const M = pick(r, GEMM_KEYS.M);
    const K = pick(r, GEMM_KEYS.K);
    const N = pick(r, GEMM_KEYS.N);
    if (M === undefined || K === undefined || N === undefined) return undefined;
    return { kind, M, K, N };
  }
  if (kind === 'conv' || kind === 'dwconv') {
    const H = pick(r, CONV_KEYS.H);
    const W = pick(r, CONV_KEYS.W);
    const C = pick(r, CONV_KEYS.C);
    if (H === undefined || W === undefined || C === undefined) return undefined;
    const kernel = pick(r, CONV_KEYS.kernel);
    const KH = pick(r, CONV_KEYS.KH) ?? kernel;
    const KW = pick(r, CONV_KEYS.KW) ?? kernel;
    if (KH === undefined || KW === undefined) return undefined;
    const stride = pick(r, CONV_KEYS.stride) ?? 1;
    const dilation = pick(r, CONV_KEYS.dilation) ?? 1;
    const multiplier = pick(r, CONV_KEYS.DM) ?? 1;
    const OC = pick(r, CONV_KEYS.OC) ?? (kind === 'dwconv' ? C * multiplier : undefined);
    if (OC === undefined) return undefined;
    const pad = (pickString(r, CONV_KEYS.padding) ?? 'SAME').toUpperCase();
    return {
      kind,
      N: pick(r, CONV_KEYS.N) ?? 1,
      H,
      W,
      C,
      OC,
      KH,
      KW,
      SH: pick(r, CONV_KEYS.SH) ?? stride,
      SW: pick(r, CONV_KEYS.SW) ?? stride,
      DH: pick(r, CONV_KEYS.DH) ?? dilation,
      DW: pick(r, CONV_KEYS.DW) ?? dilation,
      padding: pad === 'VALID' ? 'VALID' : 'SAME',
    };
  }
  return undefined;
}

/**
 * The shape entries that are not geometry (e.g. hybrid_gemm's "asymmetric"): they tell apart
 * lines of the same family and geometry. '' when there are none.
 */
export function shapeVariant(family: string, raw: unknown): string {
  if (raw === null || typeof raw !== 'object') return '';
  const kind = familyKind(family);
  const known = new Set(
    Object.values(kind === 'gemm' ? GEMM_KEYS : CONV_KEYS)
      .flat()
      .map((k: string) => k.toLowerCase()),
  );
  return Object.entries(raw as Raw)
    .filter(([k]) => !known.has(k.toLowerCase()))
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** TFLite's output size: SAME = ceil(in / stride), VALID = ceil((in - dilated_kernel + 1) / stride). */
export function convOutputSize(s: ConvShape): { OH: number; OW: number } {
  const out = (input: number, k: number, stride: number, dilation: number): number => {
    const effective = (k - 1) * dilation + 1;
    return s.padding === 'SAME'
      ? Math.ceil(input / stride)
      : Math.max(0, Math.ceil((input - effective + 1) / stride));
  };
  return { OH: out(s.H, s.KH, s.SH, s.DH), OW: out(s.W, s.KW, s.SW, s.DW) };
}

/** 2 x multiply-accumulates (padded taps counted, as the benches count them). */
export function shapeOps(s: LayerShape): number {
  if (s.kind === 'gemm') return 2 * s.M * s.K * s.N;
  const { OH, OW } = convOutputSize(s);
  const perOutput = s.kind === 'dwconv' ? s.KH * s.KW : s.KH * s.KW * s.C;
  return 2 * s.N * OH * OW * s.OC * perOutput;
}

/** Compact text for the table: "M=128 K=1024 N=1024", "56x56x64>64 k3x3 s1 SAME". */
export function describeShape(s: LayerShape): string {
  if (s.kind === 'gemm') return `M=${s.M} K=${s.K} N=${s.N}`;
  const batch = s.N === 1 ? '' : `${s.N}x`;
  const stride = s.SH === s.SW ? `s${s.SH}` : `s${s.SH}x${s.SW}`;
  const dilation = s.DH === 1 && s.DW === 1 ? '' : ` d${s.DH}x${s.DW}`;
  const channels = s.kind === 'dwconv' && s.OC === s.C ? `${s.C}` : `${s.C}>${s.OC}`;
  return `${batch}${s.H}x${s.W}x${channels} k${s.KH}x${s.KW} ${stride}${dilation} ${s.padding}`;
}

/** Fallback for shapes the runner cannot read: the raw object's entries. */
export function describeRawShape(raw: unknown): string {
  if (raw === null || typeof raw !== 'object') return String(raw);
  return Object.entries(raw as Raw)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** A key identifying the same geometry across runs (threads, peer, models). */
export function shapeKey(s: LayerShape): string {
  return s.kind === 'gemm'
    ? `gemm:${s.M}x${s.K}x${s.N}`
    : `${s.kind}:${s.N}x${s.H}x${s.W}x${s.C}>${s.OC}:k${s.KH}x${s.KW}:s${s.SH}x${s.SW}:d${s.DH}x${s.DW}:${s.padding}`;
}
