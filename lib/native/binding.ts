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

/** Packed int8 GEMM weights and requantization (native/addon/qs8_gemm_binding.cc); opaque. */
export interface Qs8GemmHandle {
  readonly __qs8GemmHandle: never;
}

export interface Qs8GemmInfo {
  readonly n: number;
  readonly k: number;
  readonly aZeroPoint: number;
  readonly path: IsaPath;
  readonly kernel: string;
}

/** A packed int8 CONV_2D / DEPTHWISE_CONV_2D (native/addon/qs8_conv_binding.cc); opaque. */
export interface Qs8ConvHandle {
  readonly __qs8ConvHandle: never;
}

/** The geometry of qs8ConvPack's params (NHWC, TFLite's padding rules). */
export interface Qs8ConvParams {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly depthMultiplier: number;
  readonly padding: 'same' | 'valid';
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly qmin: number;
  readonly qmax: number;
  readonly requant: 'fp32' | 'fixed-point';
}

export interface Qs8ConvInfo {
  readonly kind: 'conv2d' | 'depthwise';
  readonly outputHeight: number;
  readonly outputWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly path: IsaPath;
  readonly kernel: string;
}

export interface ElementwiseBinaryHandle {
  readonly __elementwiseBinary: never;
}

/** activation always; the scales and zero points for int8 only. */
export interface ElementwiseBinaryParams {
  activation: 'none' | 'relu' | 'relu-n1-to-1' | 'relu6';
  aScale?: number;
  aZeroPoint?: number;
  bScale?: number;
  bZeroPoint?: number;
  outputScale?: number;
  outputZeroPoint?: number;
}

export interface ElementwiseBinaryInfo {
  readonly dtype: 'int8' | 'float32';
  readonly outputShape: number[];
  readonly outputSize: number;
  readonly aSize: number;
  readonly bSize: number;
  readonly kernel: string;
  readonly path: IsaPath;
}

export interface NativeBinding {
  capabilities(): NativeCapabilities;
  selectIsa(isa: string): IsaPath;
  qs8ConvPack(
    kind: 'conv2d' | 'depthwise',
    weights: Int8Array,
    bias: Int32Array | null,
    scales: Float64Array,
    params: Qs8ConvParams,
  ): Qs8ConvHandle;
  qs8ConvRun(handle: Qs8ConvHandle, input: Int8Array, output: Int8Array, threads: number): void;
  qs8ConvInfo(handle: Qs8ConvHandle): Qs8ConvInfo;
  elementwiseBinaryCreate(
    dtype: 'int8' | 'float32',
    op: 'add' | 'sub' | 'mul',
    aShape: readonly number[],
    bShape: readonly number[],
    params: ElementwiseBinaryParams,
  ): ElementwiseBinaryHandle;
  elementwiseBinaryRun(handle: ElementwiseBinaryHandle, a: Int8Array | Float32Array, b: Int8Array | Float32Array, output: Int8Array | Float32Array): void;
  elementwiseBinaryInfo(handle: ElementwiseBinaryHandle): ElementwiseBinaryInfo;
  qs8GemmPack(
    weights: Int8Array,
    n: number,
    k: number,
    bias: Int32Array | null,
    aZeroPoint: number,
    mode: 0 | 1,
    scales: Float64Array,
    outputZeroPoint: number,
    qmin: number,
    qmax: number,
  ): Qs8GemmHandle;
  qs8GemmRun(handle: Qs8GemmHandle, a: Int8Array, m: number, c: Int8Array, threads: number): void;
  qs8GemmAccumulate(handle: Qs8GemmHandle, a: Int8Array, m: number, acc: Int32Array, threads: number): void;
  qs8GemmColumnSums(handle: Qs8GemmHandle, out: Int32Array): void;
  qs8GemmInfo(handle: Qs8GemmHandle): Qs8GemmInfo;
  f32GemmPack(
    weights: Float32Array,
    bias: Float32Array | null,
    params: F32GemmPackParams,
  ): F32PackedHandle;
  f32Gemm(packed: unknown, input: Float32Array, output: Float32Array, params: F32GemmParams): void;
  f32Conv2d(
    packed: unknown,
    input: Float32Array,
    output: Float32Array,
    params: F32Conv2dParams,
  ): [number, number];
  f32DepthwisePack(
    filter: Float32Array,
    bias: Float32Array | null,
    params: F32DepthwisePackParams,
  ): F32PackedHandle;
  f32DepthwiseConv2d(
    packed: unknown,
    input: Float32Array,
    output: Float32Array,
    params: F32DepthwiseConv2dParams,
  ): [number, number];
  f32MinMax(values: Float32Array, threads: number): F32MinMaxResult;
  f32Histogram(
    values: Float32Array,
    counts: Float64Array,
    lo: number,
    hi: number,
    threads: number,
  ): void;
  f32ToF16(input: Float32Array, output: Uint16Array, threads: number): void;
  f16ToF32(input: Uint16Array, output: Float32Array, threads: number): void;
  qs16FullyConnected(
    input: Int16Array,
    weights: Int8Array,
    bias: BigInt64Array | null,
    weightScales: Float32Array,
    output: Int16Array,
    params: Qs16FullyConnectedParams,
  ): void;
  qs16Conv2d(
    input: Int16Array,
    filter: Int8Array,
    bias: BigInt64Array | null,
    weightScales: Float32Array,
    output: Int16Array,
    params: Qs16Conv2dParams,
  ): [number, number];
  qs16DepthwiseConv2d(
    input: Int16Array,
    filter: Int8Array,
    bias: BigInt64Array | null,
    weightScales: Float32Array,
    output: Int16Array,
    params: Qs16DepthwiseConv2dParams,
  ): [number, number];
  hybridFullyConnected(
    input: Float32Array,
    weights: Int8Array,
    weightScales: Float32Array,
    bias: Float32Array | null,
    output: Float32Array,
    params: HybridFullyConnectedParams,
  ): void;
  hybridBatchMatMul(
    input: Float32Array,
    weights: Int8Array,
    weightScales: Float32Array,
    output: Float32Array,
    params: HybridBatchMatMulParams,
  ): void;
  hybridConv2d(
    input: Float32Array,
    filter: Int8Array,
    weightScales: Float32Array,
    bias: Float32Array | null,
    output: Float32Array,
    params: HybridConv2dParams,
  ): [number, number];
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

/** Parameters of qs16FullyConnected (native/addon/qs16_binding.cc). */
export interface Qs16FullyConnectedParams {
  readonly batch: number;
  readonly inputSize: number;
  readonly units: number;
  readonly inputScale: number;
  readonly outputScale: number;
  readonly requantization: 'fixed-point' | 'double';
  readonly qmin: number;
  readonly qmax: number;
  readonly threads?: number;
}

/** Parameters of qs16Conv2d (native/addon/qs16_binding.cc). */
export interface Qs16Conv2dParams {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padding: 'same' | 'valid';
  readonly inputScale: number;
  readonly outputScale: number;
  readonly qmin: number;
  readonly qmax: number;
  readonly threads?: number;
}

/** An opaque packed-weights handle and the path it was packed for (native/addon/f32_binding.cc). */
export interface F32PackedHandle {
  readonly handle: unknown;
  readonly path: IsaPath;
}

export type F32Activation = 'none' | 'relu' | 'relu-n1-to-1' | 'relu6';

export interface F32GemmPackParams {
  readonly units: number;
  readonly inputSize: number;
}

export interface F32GemmParams {
  readonly batch: number;
  readonly activation?: F32Activation;
  readonly threads?: number;
}

export interface F32ConvGeometryParams {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padding: 'same' | 'valid';
  readonly activation?: F32Activation;
  readonly threads?: number;
}

export interface F32Conv2dParams extends F32ConvGeometryParams {
  readonly filterHeight: number;
  readonly filterWidth: number;
}

export interface F32DepthwisePackParams {
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly channels: number;
}

export interface F32DepthwiseConv2dParams extends F32ConvGeometryParams {
  readonly depthMultiplier: number;
}

export interface F32MinMaxResult {
  readonly min: number;
  readonly max: number;
  readonly hasNaN: boolean;
  readonly hasInfinity: boolean;
}

/** Parameters of hybridFullyConnected (native/addon/hybrid_binding.cc). */
export interface HybridFullyConnectedParams {
  readonly batch: number;
  readonly inputSize: number;
  readonly units: number;
  readonly asymmetric: boolean;
  readonly activationMin: number;
  readonly activationMax: number;
  readonly threads?: number;
}

/** Parameters of hybridBatchMatMul (native/addon/hybrid_binding.cc). */
export interface HybridBatchMatMulParams {
  readonly rows: number;
  readonly inputSize: number;
  readonly units: number;
  readonly asymmetric: boolean;
  readonly threads?: number;
}

/** Parameters of hybridConv2d (native/addon/hybrid_binding.cc). */
export interface HybridConv2dParams {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly outputChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padding: 'same' | 'valid';
  readonly activationMin: number;
  readonly activationMax: number;
  readonly threads?: number;
}

/** Parameters of qs16DepthwiseConv2d (native/addon/qs16_binding.cc). */
export interface Qs16DepthwiseConv2dParams {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly depthMultiplier: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padding: 'same' | 'valid';
  readonly inputScale: number;
  readonly outputScale: number;
  readonly qmin: number;
  readonly qmax: number;
  readonly threads?: number;
}
