// The addon's exports as a TypeScript interface. Only lib/native/ calls these;
// callers go through the checked wrappers in lib/native/index.ts.

export type IsaPath =
  | 'reference'
  | 'avx2'
  | 'avxvnni'
  | 'avx512'
  | 'avx512vnni'
  | 'amx'
  | 'neon'
  | 'neondot';

export interface CpuFeatureFlags {
  readonly avx2: boolean;
  readonly fma: boolean;
  readonly f16c: boolean;
  readonly avx512f: boolean;
  readonly avx512bw: boolean;
  readonly avx512vl: boolean;
  readonly avx512dq: boolean;
  readonly avx512vnni: boolean;
  readonly avxvnni: boolean;
  readonly amxTile: boolean;
  readonly amxInt8: boolean;
  readonly amxPermitted: boolean;
  readonly neon: boolean;
  readonly neonDot: boolean;
}

export interface NativeCapabilities {
  readonly cpu: string;
  readonly features: CpuFeatureFlags;
  readonly supported: readonly IsaPath[];
  readonly built: readonly IsaPath[];
  readonly selected: IsaPath;
}

export interface NativeBinding {
  capabilities(): NativeCapabilities;
  selectIsa(isa: string): IsaPath;
  quantizeInt8(
    input: Float32Array,
    output: Int8Array,
    scales: Float32Array,
    zeroPoints: Int32Array,
    outer: number,
    channels: number,
    inner: number,
    qmin: number,
    qmax: number,
  ): void;
  dequantizeInt8(
    input: Int8Array,
    output: Float32Array,
    scales: Float32Array,
    zeroPoints: Int32Array,
    outer: number,
    channels: number,
    inner: number,
  ): void;
}
