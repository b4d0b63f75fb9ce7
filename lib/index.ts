// The public API of litequant.
export {
  LitequantError,
  InvalidArgumentError,
  ModelFormatError,
  NativeLoadError,
  IsaUnavailableError,
  UnsupportedOperatorError,
} from './errors.js';
export type { ErrorCode } from './errors.js';

// The model format and IR.
export { readModel } from './tflite/read.js';
export { writeModel } from './tflite/write.js';
export { operatorCode, resolveBuiltinCode, tensorTypeBits, denseByteSize } from './ir/graph.js';
export type {
  Graph,
  Subgraph,
  Tensor,
  Operator,
  OperatorCode,
  Quantization,
  ModelBuffer,
  Metadata,
  SignatureDef,
  TensorMap,
  ExternalBuffer,
  ExternalBufferGroup,
} from './ir/graph.js';
export { GraphBuilder, builtinOptions, quantization } from './ir/builder.js';
export type { TensorSpec, OpSpec, QuantizationSpec } from './ir/builder.js';
export { summarize } from './ir/summary.js';
export type { ModelSummary, SubgraphSummary, TensorSummary, OpCount, QuantizationSummary } from './ir/summary.js';
export {
  TensorType,
  BuiltinOperator,
  ActivationFunctionType,
  Padding,
  CustomOptionsFormat,
} from './tflite/schema.js';
export type {
  BuiltinOptions,
  BuiltinOptions2,
  QuantizationDetails,
  SparsityParameters,
  DimensionMetadata,
  SparseIndexVector,
  VariantSubType,
} from './tflite/schema.js';
export { tensorTypeName, builtinOperatorName } from './tflite/names.js';

// NumPy .npy files (calibration data, inputs and outputs of `litequant run`).
export { readNpy, readNpyFile, openNpy, writeNpy, writeNpyFile, createNpyWriter, NpyFile, NpyWriter } from './npy.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';

// Native kernels and the machine.
export { capabilities, selectIsa } from './native/index.js';
export type { Capabilities, CpuFeatureFlags, IsaPath } from './native/index.js';
export { quantizeTensor, dequantizeTensor } from './native/quantize.js';
export type { AffineParams, Int8Range } from './native/quantize.js';

// The runtime (in progress: see lib/runtime/NOTES.md for the ops it runs so far).
export { loadModel, Session } from './runtime/session.js';
export type { LoadModelOptions, SessionStep, SessionDtype, SessionTensorInfo, TensorData } from './runtime/session.js';

// TensorFlow.js Layers models to .tflite: fromTfjs('model.json' | tf.LayersModel).
export { fromTfjs, tfjsToGraph, UnsupportedLayerError } from './tfjs/convert.js';
export type { TfjsModelInput, UnsupportedLayer } from './tfjs/convert.js';
export type { TfjsLayersModelLike, TfjsModelArtifacts, TfjsWeightSpec } from './tfjs/artifacts.js';

// Post-training quantization: quantize(model, { mode, calibration, ... }).
export { quantize } from './quantize/quantize.js';
export type {
  QuantizeOptions,
  QuantizeResult,
  QuantizeReport,
  QuantizeMode,
  CalibrationMethod,
  CalibrationSample,
  CalibrationTensor,
  IoType,
  ProgressEvent,
  Diagnostic,
  TensorReport,
  OpReport,
} from './quantize/types.js';
