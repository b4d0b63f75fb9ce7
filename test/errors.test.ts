import t from 'tap';

import {
  InvalidArgumentError,
  IsaUnavailableError,
  LitequantError,
  ModelFormatError,
  NativeLoadError,
  UnsupportedOperatorError,
  describeValue,
  expected,
} from '../lib/errors.js';

t.test('every error class carries its stable code and name', async (t) => {
  const cases: [LitequantError, string][] = [
    [new InvalidArgumentError('x'), 'ERR_LITEQUANT_INVALID_ARGUMENT'],
    [new NativeLoadError('x'), 'ERR_LITEQUANT_NATIVE_LOAD'],
    [new IsaUnavailableError('x'), 'ERR_LITEQUANT_ISA_UNAVAILABLE'],
    [new ModelFormatError('x'), 'ERR_LITEQUANT_MODEL_FORMAT'],
    [new UnsupportedOperatorError('GELU', 3, 'x'), 'ERR_LITEQUANT_UNSUPPORTED_OPERATOR'],
  ];
  for (const [error, code] of cases) {
    t.ok(error instanceof LitequantError);
    t.ok(error instanceof Error);
    t.equal(error.code, code);
    t.equal(error.name, error.constructor.name);
  }
});

t.test('argument messages name what was expected, the parameter and the value', async (t) => {
  t.equal(
    expected('a Float32Array', 'values', new Int8Array(3)).message,
    'Expected a Float32Array for values but received an Int8Array of length 3',
  );
  t.equal(describeValue('abc'), "the string 'abc'");
  t.equal(describeValue(undefined), 'undefined');
  t.equal(describeValue([1, 2]), 'an Array of length 2');
});
