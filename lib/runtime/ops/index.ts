// Which compiler handles each builtin operator. A compiler returns null for dtypes or options
// it does not support; compilePlan turns that into an error naming the op.
import { BuiltinOperator } from '../../tflite/schema.js';
import type { OpCompiler } from './context.js';
import { compileConcatenation, compileGather, compilePadTranspose, compileReshape, compileSelectV2, compileSlice } from './data-movement.js';
import {
  compileBinary,
  compileDequantize,
  compileQuantize,
  compileRelu,
  compileRsqrt,
  compileSigmoidTanh,
  compileSquaredDifference,
} from './elementwise.js';
import { compileConvolution, compileFullyConnected } from './linear.js';
import { compileUnidirectionalSequenceLstm } from './lstm.js';
import { compileBidirectionalSequenceLstm, compileLstmCell } from './lstm-variants.js';
import { compileBatchMatMul } from './matmul.js';
import { compileMean, compilePool2D, compileSoftmax } from './reduction.js';

export type { Compiled, OpCompiler, OpContext } from './context.js';

export const OP_COMPILERS: ReadonlyMap<number, OpCompiler> = new Map<number, OpCompiler>([
  [BuiltinOperator.FULLY_CONNECTED, compileFullyConnected],
  [BuiltinOperator.CONV_2D, compileConvolution],
  [BuiltinOperator.DEPTHWISE_CONV_2D, compileConvolution],
  [BuiltinOperator.ADD, compileBinary],
  [BuiltinOperator.SUB, compileBinary],
  [BuiltinOperator.MUL, compileBinary],
  [BuiltinOperator.AVERAGE_POOL_2D, compilePool2D],
  [BuiltinOperator.MAX_POOL_2D, compilePool2D],
  [BuiltinOperator.MEAN, compileMean],
  [BuiltinOperator.SOFTMAX, compileSoftmax],
  [BuiltinOperator.RELU, compileRelu],
  [BuiltinOperator.RELU6, compileRelu],
  [BuiltinOperator.RELU_N1_TO_1, compileRelu],
  [BuiltinOperator.LOGISTIC, compileSigmoidTanh],
  [BuiltinOperator.TANH, compileSigmoidTanh],
  [BuiltinOperator.QUANTIZE, compileQuantize],
  [BuiltinOperator.DEQUANTIZE, compileDequantize],
  [BuiltinOperator.RESHAPE, compileReshape],
  [BuiltinOperator.SQUEEZE, compileReshape],
  [BuiltinOperator.EXPAND_DIMS, compileReshape],
  [BuiltinOperator.PAD, compilePadTranspose],
  [BuiltinOperator.TRANSPOSE, compilePadTranspose],
  [BuiltinOperator.CONCATENATION, compileConcatenation],
  [BuiltinOperator.PADV2, compilePadTranspose],
  [BuiltinOperator.SLICE, compileSlice],
  [BuiltinOperator.GATHER, compileGather],
  [BuiltinOperator.SELECT_V2, compileSelectV2],
  [BuiltinOperator.SQUARED_DIFFERENCE, compileSquaredDifference],
  [BuiltinOperator.RSQRT, compileRsqrt],
  [BuiltinOperator.BATCH_MATMUL, compileBatchMatMul],
  [BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM, compileUnidirectionalSequenceLstm],
  [BuiltinOperator.LSTM, compileLstmCell],
  [BuiltinOperator.BIDIRECTIONAL_SEQUENCE_LSTM, compileBidirectionalSequenceLstm],
]);
