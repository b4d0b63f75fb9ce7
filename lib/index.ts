// The public API of litequant.
export {
  LitequantError,
  InvalidArgumentError,
  NativeLoadError,
  IsaUnavailableError,
} from './errors.js';
export type { ErrorCode } from './errors.js';
export { capabilities, selectIsa } from './native/index.js';
export type { Capabilities, CpuFeatureFlags, IsaPath } from './native/index.js';
export { quantizeTensor, dequantizeTensor } from './native/quantize.js';
export type { AffineParams, Int8Range } from './native/quantize.js';
