// The error hierarchy. Every error litequant throws on purpose is a LitequantError
// with a stable `code`; callers branch on `code`, never on message text.

export type ErrorCode =
  | 'ERR_LITEQUANT_INVALID_ARGUMENT'
  | 'ERR_LITEQUANT_NATIVE_LOAD'
  | 'ERR_LITEQUANT_ISA_UNAVAILABLE'
  | 'ERR_LITEQUANT_MODEL_FORMAT'
  | 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR';

export class LitequantError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An argument or option has the wrong type, length or value. */
export class InvalidArgumentError extends LitequantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LITEQUANT_INVALID_ARGUMENT', message, options);
  }
}

/** The native addon could not be found or loaded on this platform. */
export class NativeLoadError extends LitequantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LITEQUANT_NATIVE_LOAD', message, options);
  }
}

/** LITEQUANT_ISA (or selectIsa) asked for a path this binary or CPU cannot run. */
export class IsaUnavailableError extends LitequantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LITEQUANT_ISA_UNAVAILABLE', message, options);
  }
}

/** The bytes are not a well-formed TFLite model: the message says what is wrong and where. */
export class ModelFormatError extends LitequantError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LITEQUANT_MODEL_FORMAT', message, options);
  }
}

/**
 * The model has an operator (or an op/dtype combination) that litequant cannot run or
 * quantize. `op` is the builtin name, `index` its position in subgraph 0, `dtypes` the input
 * and output types that were refused.
 */
export class UnsupportedOperatorError extends LitequantError {
  readonly op: string;
  readonly index: number;
  constructor(op: string, index: number, message: string, options?: { cause?: unknown }) {
    super('ERR_LITEQUANT_UNSUPPORTED_OPERATOR', message, options);
    this.op = op;
    this.index = index;
  }
}

/** Describes a received value for "Expected <what> for <param> but received <value>". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name;
    const article = /^[AEIO]/.test(name) ? 'an' : 'a';
    const length = 'length' in value ? ` of length ${String(value.length)}` : '';
    return `${article} ${name}${length}`;
  }
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return 'an object';
}

export function expected(what: string, param: string, received: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `Expected ${what} for ${param} but received ${describeValue(received)}`,
  );
}
