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
  qs16Pack(
    kind: 'fully-connected' | 'conv2d' | 'depthwise',
    weights: Int8Array,
    bias: BigInt64Array | null,
    weightScales: Float32Array,
    params: Qs16PackParams,
  ): Qs16Handle;
  qs16Run(handle: Qs16Handle, input: Int16Array, output: Int16Array, threads: number): void;
  qs16Info(handle: Qs16Handle): PackedLayerInfo;
  hybridPack(
    kind: 'fully-connected' | 'batch-matmul' | 'conv2d',
    weights: Int8Array,
    weightScales: Float32Array,
    bias: Float32Array | null,
    params: HybridPackParams,
  ): HybridHandle;
  hybridRun(handle: HybridHandle, input: Float32Array, output: Float32Array, threads: number): void;
  hybridInfo(handle: HybridHandle): PackedLayerInfo;
  lstmPack(kind: 'float32' | 'hybrid', tensors: readonly (Float32Array | Int8Array | null)[], scales: Float32Array | null, params: LstmPackParams): LstmHandle;
  lstmRun(handle: LstmHandle, input: Float32Array, outputState: Float32Array, cellState: Float32Array, output: Float32Array, threads: number): void;
  lstmInfo(handle: LstmHandle): LstmPackedInfo;
  lstmQs8Pack(arrays: readonly (Int8Array | Int16Array | Int32Array | null)[], numbers: Int32Array, params: LstmQs8PackParams): LstmQs8Handle;
  lstmQs8Run(handle: LstmQs8Handle, input: Int8Array, outputState: Int8Array, cellState: Int16Array, output: Int8Array, threads: number): void;
  lstmQs8Info(handle: LstmQs8Handle): LstmQs8PackedInfo;
  lstmQs8Table(kind: 'logistic' | 'tanh', integerBits: number, out: Int16Array): void;
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
  quantizeInt8HalfEven(input: Float32Array, output: Int8Array, scale: Float32Array, zeroPoint: number): void;
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

/** A packed hybrid layer (native/addon/hybrid_binding.cc); opaque. */
export interface HybridHandle {
  readonly __hybridHandle: never;
}

/** A packed float32 or hybrid LSTM (native/addon/lstm_binding.cc); opaque. */
export interface LstmHandle {
  readonly __lstmHandle: never;
}

/** lstmPack's params (native/addon/lstm_binding.cc). */
export interface LstmPackParams {
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
  readonly timeMajor: boolean;
  readonly activation: 'tanh' | 'relu' | 'relu6' | 'relu-n1-to-1' | 'sign-bit';
  readonly cellClip: number;
  readonly projClip: number;
  readonly asymmetric: boolean;
}

export interface LstmPackedInfo {
  readonly kind: 'float32' | 'hybrid';
  readonly path: IsaPath;
  readonly kernel: string;
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
}

/** A packed full-integer LSTM (native/addon/lstm_qs8_binding.cc); opaque. */
export interface LstmQs8Handle {
  readonly __lstmQs8Handle: never;
}

/** lstmQs8Pack's params (native/addon/lstm_qs8_binding.cc); the clips quantized. */
export interface LstmQs8PackParams {
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
  readonly timeMajor: boolean;
  readonly cellShift: number;
  readonly hiddenOutputZeroPoint: number;
  readonly hiddenZeroPoint: number;
  readonly outputStateZeroPoint: number;
  readonly cellClip: number;
  readonly projClip: number;
}

export interface LstmQs8PackedInfo {
  readonly path: IsaPath;
  readonly kernel: string;
  readonly maxTime: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly cellSize: number;
  readonly outputSize: number;
}

/** A packed int16x8 layer (native/addon/qs16_binding.cc); opaque. */
export interface Qs16Handle {
  readonly __qs16Handle: never;
}

/** The geometry of a packed CONV_2D / DEPTHWISE_CONV_2D (NHWC, TFLite's padding rules). */
export interface PackedConvParams {
  readonly batch: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  readonly padding: 'same' | 'valid';
}

/**
 * hybridPack's params: 'fully-connected' and 'batch-matmul' take inputSize, units and
 * asymmetric; 'conv2d' takes the geometry and outputChannels; 'fully-connected' and 'conv2d'
 * take the float clamp.
 */
export type HybridPackParams =
  | { readonly inputSize: number; readonly units: number; readonly asymmetric: boolean; readonly activationMin?: number; readonly activationMax?: number }
  | (PackedConvParams & { readonly outputChannels: number; readonly activationMin: number; readonly activationMax: number });

/** qs16Pack's params: the scales and int16 clamp, plus the layer's shape. */
export type Qs16PackParams = {
  readonly inputScale: number;
  readonly outputScale: number;
  readonly qmin: number;
  readonly qmax: number;
} & (
  | { readonly inputSize: number; readonly units: number; readonly requantization: 'fixed-point' | 'double' }
  | (PackedConvParams & { readonly outputChannels: number })
  | (PackedConvParams & { readonly depthMultiplier: number })
);

/** hybridInfo / qs16Info: 0 for the sizes a row kind leaves to the caller. */
export interface PackedLayerInfo {
  readonly kind: string;
  /** Output channels. */
  readonly units: number;
  /** The GEMM's reduction length (taps per channel for a depthwise layer). */
  readonly inputSize: number;
  readonly outputHeight: number;
  readonly outputWidth: number;
  readonly inputLength: number;
  readonly outputLength: number;
  readonly path: IsaPath;
  readonly kernel: string;
}
