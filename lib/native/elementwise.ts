// Element-wise ADD, SUB and MUL on the native kernels, with NumPy broadcasting, as the official
// TFLite runtime computes them through its default XNNPACK delegate:
//
//   int8 ADD/SUB: XNNPACK qs8-vadd (multipliers with 20 significant bits, one arithmetic shift),
//                 defined when aScale / outputScale and bScale / outputScale (float32) are in
//                 [2^-10, 2^8); TFLite's builtin kernels take other scales (not here).
//   int8 MUL:     XNNPACK qs8-vmul fp32, defined when float(float(aScale * bScale) / outputScale)
//                 is in [2^-16, 2^8).
//   float32:      one float32 operation per element, then the fused activation's clamp.
//
// The fused activation of int8 outputs is XNNPACK's clamp, lrintf(f / scale + zeroPoint).
// createInt8Binary / createFloat32Binary validate every option once (shapes, quantization,
// activation) and choose the kernels of the instruction-set path selected at that moment;
// run() is the hot call: it checks its arrays, writes into `output` (allocated when omitted)
// and allocates nothing else. `output` may be an input of the output's size (in place).
import { InvalidArgumentError, expected } from '../errors.js';
import type { ElementwiseBinaryHandle, IsaPath } from './binding.js';
import { callNative } from './index.js';
import { checkActivation, type FusedActivation } from './layer-params.js';

export type BinaryOperation = 'add' | 'sub' | 'mul';

/** A tensor's int8 quantization: real = scale * (q - zeroPoint). */
export interface Int8Quantization {
  /** Finite and > 0 as a float32. */
  readonly scale: number;
  /** In [-128, 127]. */
  readonly zeroPoint: number;
}

export interface Float32BinaryOptions {
  readonly op: BinaryOperation;
  /** Shapes of rank <= 8 that broadcast (right-aligned; equal sizes or one of them 1). */
  readonly aShape: readonly number[];
  readonly bShape: readonly number[];
  /** Default 'none'. */
  readonly activation?: FusedActivation;
}

export interface Int8BinaryOptions extends Float32BinaryOptions {
  readonly a: Int8Quantization;
  readonly b: Int8Quantization;
  readonly output: Int8Quantization;
}

/** A created element-wise operator, ready to run. */
export interface BinaryOperator<T extends Int8Array | Float32Array> {
  readonly op: BinaryOperation;
  readonly outputShape: readonly number[];
  readonly outputSize: number;
  /** The kernels that run, e.g. 'qs8_vbinary__avx2', and their instruction-set path. */
  readonly kernel: string;
  readonly path: IsaPath;
  /** out = a op b (broadcast); returns `output` (allocated when omitted). */
  run(a: T, b: T, output?: T): T;
}

const OPERATIONS: readonly BinaryOperation[] = ['add', 'sub', 'mul'];
const MAX_RANK = 8;

function checkOperation(value: unknown): BinaryOperation {
  if (typeof value !== 'string' || !(OPERATIONS as readonly string[]).includes(value)) {
    throw expected("'add', 'sub' or 'mul'", 'op', value);
  }
  return value as BinaryOperation;
}

function checkBinaryShape(value: unknown, param: string): number[] {
  if (!Array.isArray(value) || value.length > MAX_RANK || !value.every((d) => Number.isInteger(d) && d >= 0 && d < 2 ** 31)) {
    throw expected(`an array of at most ${MAX_RANK} non-negative integers`, param, value);
  }
  return [...(value as number[])];
}

function checkQuantization(value: unknown, param: string): Int8Quantization {
  if (value === null || typeof value !== 'object') throw expected('an object with scale and zeroPoint', param, value);
  const { scale, zeroPoint } = value as Partial<Int8Quantization>;
  const f = Math.fround(scale as number);
  if (typeof scale !== 'number' || !Number.isFinite(f) || !(f > 0)) {
    throw expected('a finite positive float32', `${param}.scale`, scale);
  }
  if (!Number.isInteger(zeroPoint) || (zeroPoint as number) < -128 || (zeroPoint as number) > 127) {
    throw expected('an integer between -128 and 127', `${param}.zeroPoint`, zeroPoint);
  }
  return { scale, zeroPoint: zeroPoint as number };
}

function makeOperator<T extends Int8Array | Float32Array>(
  op: BinaryOperation,
  handle: ElementwiseBinaryHandle,
  kind: typeof Int8Array | typeof Float32Array,
): BinaryOperator<T> {
  const info = callNative((binding) => binding.elementwiseBinaryInfo(handle));
  const { aSize, bSize, outputSize } = info;
  const typeName = kind === Int8Array ? 'an Int8Array' : 'a Float32Array';
  const check = (array: unknown, size: number, param: string): void => {
    if (!(array instanceof kind)) throw expected(typeName, param, array);
    if (array.length !== size) {
      throw new InvalidArgumentError(`Expected ${size} values for ${param} but received ${array.length}`);
    }
  };
  return {
    op,
    outputShape: info.outputShape,
    outputSize,
    kernel: info.kernel,
    path: info.path,
    run(a: T, b: T, output?: T): T {
      check(a, aSize, 'a');
      check(b, bSize, 'b');
      const out = output ?? (new kind(outputSize) as T);
      if (output !== undefined) check(output, outputSize, 'output');
      callNative((binding) => binding.elementwiseBinaryRun(handle, a, b, out));
      return out;
    },
  };
}

/** Validates the options and creates an int8 ADD/SUB/MUL (XNNPACK's rules). */
export function createInt8Binary(options: Int8BinaryOptions): BinaryOperator<Int8Array> {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const op = checkOperation(options.op);
  const aShape = checkBinaryShape(options.aShape, 'aShape');
  const bShape = checkBinaryShape(options.bShape, 'bShape');
  const a = checkQuantization(options.a, 'a');
  const b = checkQuantization(options.b, 'b');
  const output = checkQuantization(options.output, 'output');
  const activation = checkActivation(options.activation);
  const handle = callNative((binding) =>
    binding.elementwiseBinaryCreate('int8', op, aShape, bShape, {
      activation,
      aScale: a.scale,
      aZeroPoint: a.zeroPoint,
      bScale: b.scale,
      bZeroPoint: b.zeroPoint,
      outputScale: output.scale,
      outputZeroPoint: output.zeroPoint,
    }),
  );
  return makeOperator<Int8Array>(op, handle, Int8Array);
}

/** Validates the options and creates a float32 ADD/SUB/MUL. */
export function createFloat32Binary(options: Float32BinaryOptions): BinaryOperator<Float32Array> {
  if (options === null || typeof options !== 'object') throw expected('an object', 'options', options);
  const op = checkOperation(options.op);
  const aShape = checkBinaryShape(options.aShape, 'aShape');
  const bShape = checkBinaryShape(options.bShape, 'bShape');
  const activation = checkActivation(options.activation);
  const handle = callNative((binding) => binding.elementwiseBinaryCreate('float32', op, aShape, bShape, { activation }));
  return makeOperator<Float32Array>(op, handle, Float32Array);
}

/**
 * Whether XNNPACK's int8 rule covers these scales (what createInt8Binary accepts): the official
 * runtime runs TFLite's builtin kernels otherwise.
 */
export function int8BinaryScalesSupported(
  op: BinaryOperation,
  a: Int8Quantization,
  b: Int8Quantization,
  output: Int8Quantization,
): boolean {
  const so = Math.fround(output.scale);
  if (op === 'mul') {
    const r = Math.fround(Math.fround(Math.fround(a.scale) * Math.fround(b.scale)) / so);
    return r >= 2 ** -16 && r < 256;
  }
  const inRange = (s: number) => {
    const r = Math.fround(Math.fround(s) / so);
    return r >= 2 ** -10 && r < 256;
  };
  return inRange(a.scale) && inRange(b.scale);
}
