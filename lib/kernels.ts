// `litequant/kernels`: the native kernels one layer at a time, for users who run their own
// graphs and for tests and benchmarks. Each function validates its options and throws
// InvalidArgumentError on bad input; packed weights are reusable across calls.
export { quantizeTensor, dequantizeTensor } from './native/quantize.js';
export type { AffineParams, Int8Range } from './native/quantize.js';
export { packQs8Gemm, requantizationScale, Qs8Gemm } from './native/gemm.js';
export { packInt8Conv2d, packInt8DepthwiseConv2d } from './native/conv.js';
export {
  packFullyConnectedWeights,
  fullyConnected,
  packConv2dFilter,
  packDepthwiseFilter,
  conv2d,
  depthwiseConv2d,
} from './native/f32.js';
export { packInt16FullyConnected, packInt16Conv2d, packInt16DepthwiseConv2d } from './native/int16.js';
export { packHybridFullyConnected, packHybridBatchMatMul, packHybridConv2d } from './native/hybrid.js';
export { minMax, histogram, float32ToFloat16, float16ToFloat32 } from './native/tensor-utils.js';
