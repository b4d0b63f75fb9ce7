// The addon checks its own arguments too: whatever JS passes, the result is a JS
// error with a stable code, never a crash.
import t from 'tap';

import { InvalidArgumentError } from '../../lib/errors.js';
import { callNative, native } from '../../lib/native/index.js';

const f32 = (n: number) => new Float32Array(n);
const i8 = (n: number) => new Int8Array(n);
const scales = new Float32Array([1]);
const zps = new Int32Array([0]);

t.test('quantizeInt8 rejects every malformed call with ERR_LITEQUANT_INVALID_ARGUMENT', async (t) => {
  const q = native().quantizeInt8 as (...args: unknown[]) => void;
  const calls: [string, unknown[]][] = [
    ['no arguments', []],
    ['too many', [f32(4), i8(4), scales, zps, 1, 1, 4, -128, 127, 0]],
    ['input is an Array', [[1, 2, 3, 4], i8(4), scales, zps, 1, 1, 4, -128, 127]],
    ['input is Float64Array', [new Float64Array(4), i8(4), scales, zps, 1, 1, 4, -128, 127]],
    ['output is Uint8Array', [f32(4), new Uint8Array(4), scales, zps, 1, 1, 4, -128, 127]],
    ['input too short', [f32(3), i8(4), scales, zps, 1, 1, 4, -128, 127]],
    ['output too short', [f32(4), i8(3), scales, zps, 1, 1, 4, -128, 127]],
    ['scales length', [f32(4), i8(4), new Float32Array(2), zps, 1, 1, 4, -128, 127]],
    ['negative scale', [f32(4), i8(4), new Float32Array([-1]), zps, 1, 1, 4, -128, 127]],
    ['zero point range', [f32(4), i8(4), scales, new Int32Array([300]), 1, 1, 4, -128, 127]],
    ['fractional dim', [f32(4), i8(4), scales, zps, 1, 1, 4.5, -128, 127]],
    ['negative dim', [f32(4), i8(4), scales, zps, -1, 1, 4, -128, 127]],
    ['zero channels', [f32(4), i8(4), scales, zps, 1, 0, 4, -128, 127]],
    ['huge dims', [f32(4), i8(4), scales, zps, 2 ** 40, 2 ** 40, 4, -128, 127]],
    ['qmin > qmax', [f32(4), i8(4), scales, zps, 1, 1, 4, 5, 4]],
    ['qmax string', [f32(4), i8(4), scales, zps, 1, 1, 4, -128, '127']],
    ['NaN dim', [f32(4), i8(4), scales, zps, NaN, 1, 4, -128, 127]],
  ];
  for (const [name, args] of calls) {
    t.throws(() => callNative(() => q(...args)), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT' }, name);
    t.throws(() => callNative(() => q(...args)), InvalidArgumentError, `${name}: typed`);
  }
});

t.test('messages say what was expected, for which parameter, and what came', async (t) => {
  const q = native().quantizeInt8 as (...args: unknown[]) => void;
  t.throws(() => q(new Float64Array(4), i8(4), scales, zps, 1, 1, 4, -128, 127), {
    message: 'Expected a Float32Array for input but received a Float64Array of length 4',
  });
  t.throws(() => q(f32(3), i8(4), scales, zps, 1, 1, 4, -128, 127), {
    message: 'Expected length 4 for input but received length 3',
  });
});

t.test('dequantizeInt8 and selectIsa check their arguments', async (t) => {
  const d = native().dequantizeInt8 as (...args: unknown[]) => void;
  t.throws(() => callNative(() => d(i8(4), f32(5), scales, zps, 1, 1, 4)), InvalidArgumentError);
  t.throws(() => callNative(() => d(f32(4), f32(4), scales, zps, 1, 1, 4)), InvalidArgumentError);
  const s = native().selectIsa as (...args: unknown[]) => void;
  t.throws(() => callNative(() => s(42)), InvalidArgumentError);
  t.throws(() => callNative(() => s('sse9')), { code: 'ERR_LITEQUANT_INVALID_ARGUMENT', message: /one of reference/ });
});
