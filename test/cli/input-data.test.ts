// lib/cli/input-data.ts: how .npy samples become model inputs (float scaling, quantization with
// round half to even and clamping, as-is and exact integer feeds) and what is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { openInputData } from '../../lib/cli/input-data.js';
import { writeNpyFile, type NpyArray } from '../../lib/npy.js';
import type { SessionTensorInfo } from '../../lib/runtime/session.js';

const work = mkdtempSync(join(tmpdir(), 'litequant-input-data-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

let counter = 0;
function npy(array: NpyArray): string {
  const path = join(work, `d${counter++}.npy`);
  writeNpyFile(path, array);
  return path;
}

function input(dtype: SessionTensorInfo['dtype'], shape: number[], q?: [number, number]): SessionTensorInfo {
  return {
    name: `in_${dtype}`,
    dtype,
    shape,
    shapeSignature: shape,
    length: shape.reduce((a, b) => a * b, 1),
    scale: q?.[0] ?? null,
    zeroPoint: q?.[1] ?? null,
  };
}

t.test('float inputs: float32(raw * scale + offset) from any numeric dtype', async (t) => {
  const path = npy({ dtype: 'u1', shape: [2, 3], data: new Uint8Array([0, 128, 255, 1, 2, 3]) });
  const data = openInputData([path], [input('float32', [1, 3])], { scale: [1 / 255], offset: [-0.5] });
  t.equal(data.samples, 2);
  t.equal(data.feeds[0]?.mode, 'float');
  const [x] = data.read(1);
  t.same(Array.from(x as Float32Array), [1, 2, 3].map((v) => Math.fround(v * (1 / 255) - 0.5)));
  t.same(Array.from(data.read(0, 2)[0] as Float32Array).length, 6, 'two samples in one read');
  data.close();
  const big = npy({ dtype: 'i8', shape: [1, 2], data: new BigInt64Array([-5n, 7n]) });
  const d2 = openInputData([big], [input('float32', [2])]);
  t.same(Array.from(d2.read(0)[0] as Float32Array), [-5, 7], 'int64 data');
  d2.close();
});

t.test('NaN and Infinity: an error naming the element, unless allowed', async (t) => {
  const path = npy({ dtype: 'f8', shape: [2, 2, 3], data: Float64Array.from({ length: 12 }, (_, i) => (i === 8 ? NaN : i === 9 ? 1e300 : i)) });
  const data = openInputData([path], [input('float32', [1, 2, 3])]);
  t.same(Array.from(data.read(0)[0] as Float32Array), [0, 1, 2, 3, 4, 5]);
  t.throws(() => data.read(1), { message: new RegExp(`'${path}'\\[1, 0, 2\\] is NaN: model input 0 'in_float32' float32 \\[1, 2, 3\\] takes finite values \\(--allow-nonfinite lets NaN/Infinity through\\)`) });
  const scaled = openInputData([path], [input('float32', [1, 2, 3])], { scale: [1] });
  t.throws(() => scaled.read(1, 1), /is NaN/);
  const allowed = openInputData([path], [input('float32', [1, 2, 3])], { allowNonFinite: true });
  const x = allowed.read(1)[0] as Float32Array;
  t.ok(Number.isNaN(x[2]) && x[3] === Infinity, 'NaN and an overflow to Infinity go through when allowed');
  const overflow = npy({ dtype: 'f8', shape: [1, 1], data: new Float64Array([1e300]) });
  t.throws(() => openInputData([overflow], [input('float32', [1])]).read(0), {
    message: /\[0, 0\] is Infinity after scaling \(raw value 1e\+300 \* 1 \+ 0\)/,
  });
  for (const d of [data, scaled, allowed]) d.close();
});

t.test('quantized inputs: own dtype as is; other data quantized, round half to even, clamped', async (t) => {
  const q = input('int8', [1, 8], [0.5, -3]);
  const real = npy({ dtype: 'f4', shape: [1, 8], data: new Float32Array([0.25, 0.75, -0.25, 1.25, 100, -100, 0, -1.75]) });
  const data = openInputData([real], [q]);
  t.equal(data.feeds[0]?.mode, 'quantize');
  // real / 0.5 = 0.5, 1.5, -0.5, 2.5, 200, -200, 0, -3.5 -> 0, 2, -0, 2, 200, -200, 0, -4; + zp -3; clamp.
  t.same(Array.from(data.read(0)[0] as Int8Array), [-3, -1, -3, -1, 127, -128, -3, -7]);
  const pixels = npy({ dtype: 'u1', shape: [1, 2], data: new Uint8Array([0, 255]) });
  const r8 = openInputData([pixels], [input('int8', [1, 2], [1, -128])]);
  t.same(Array.from(r8.read(0)[0] as Int8Array), [-128, 127], 'uint8 pixels for an input of scale 1, zero point -128: q = p - 128');
  const i16 = openInputData([real], [input('int16', [8], [0.25, 0])], { scale: [2] });
  t.same(Array.from(i16.read(0)[0] as Int16Array), [2, 6, -2, 10, 800, -800, 0, -14], 'int16, with --input-scale applied first');
  const raw = npy({ dtype: 'i1', shape: [1, 2], data: new Int8Array([-128, 5]) });
  const asIs = openInputData([raw], [input('int8', [2], [0.5, -3])]);
  t.equal(asIs.feeds[0]?.mode, 'as-is');
  t.same(Array.from(asIs.read(0)[0] as Int8Array), [-128, 5], 'int8 data for an int8 input goes in as is');
  t.throws(() => openInputData([raw], [input('int8', [2], [0.5, -3])], { scale: [0.5] }), {
    message: /--input-scale\/--input-offset \(0\.5\/0\) do not apply to model input 0 'in_int8' int8 \[2\]: '.*' is int8 like the input, so its values go in as is/,
  });
  const nan = npy({ dtype: 'f4', shape: [1, 2], data: new Float32Array([Infinity, NaN]) });
  const allowed = openInputData([nan], [input('int8', [2], [0.5, 0])], { allowNonFinite: true });
  t.throws(() => allowed.read(0), { message: /\[0, 1\] is NaN: it cannot be quantized for model input 0/ });
  t.throws(() => openInputData([nan], [input('int8', [2], [0.5, 0])]).read(0), { message: /\[0, 0\] is Infinity: it cannot be quantized .*--allow-nonfinite clamps ±Infinity/ });
  for (const d of [data, r8, i16, asIs, allowed]) d.close();
});

t.test('other integer inputs: whole numbers in range, converted exactly', async (t) => {
  const ids = npy({ dtype: 'f8', shape: [2, 3], data: new Float64Array([1, 2, 3, 4, 5.5, 6]) });
  const data = openInputData([ids], [input('int32', [1, 3])]);
  t.equal(data.feeds[0]?.mode, 'integer');
  t.same(Array.from(data.read(0)[0] as Int32Array), [1, 2, 3]);
  t.throws(() => data.read(1), { message: /\[1, 1\] is 5\.5: model input 0 'in_int32' int32 \[1, 3\] takes whole numbers from -2147483648 to 2147483647/ });
  const small = npy({ dtype: 'i4', shape: [1, 2], data: new Int32Array([7, -9]) });
  const i64 = openInputData([small], [input('int64', [2])]);
  t.same(Array.from(i64.read(0)[0] as BigInt64Array), [7n, -9n], 'int32 data for an int64 input');
  const u8 = openInputData([small], [input('uint8', [2])]);
  t.throws(() => u8.read(0), { message: /\[0, 1\] is -9: .* takes whole numbers from 0 to 255/ });
  t.throws(() => openInputData([ids], [input('int32', [3])], { offset: [1] }), { message: /do not apply to model input 0 'in_int32' int32 \[3\]: its values go in as is/ });
  for (const d of [data, i64, u8]) d.close();
});

t.test('refused: file count, sample shapes and layouts, sample counts', async (t) => {
  const nhwc = input('float32', [1, 4, 4, 3]);
  const shaped = (shape: number[]): string => npy({ dtype: 'f4', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  for (const ok of [[2, 4, 4, 3], [2, 1, 4, 4, 3], [2, 48], [2, 4, 1, 4, 3]]) {
    openInputData([shaped(ok)], [nhwc]).close();
    t.pass(`[${ok.join(', ')}] fits [1, 4, 4, 3]`);
  }
  t.throws(() => openInputData([shaped([2, 3, 4, 4])], [nhwc]), {
    message: /Expected samples of shape \[4, 4, 3\] \(size-1 axes may be added or dropped, or flat \[48\]\) for model input 0 'in_float32' float32 \[1, 4, 4, 3\] but '.*' has shape \[2, 3, 4, 4\]: samples of \[3, 4, 4\]/,
  });
  t.throws(() => openInputData([shaped([2, 47])], [nhwc]), /Expected samples of shape \[4, 4, 3\]/);
  t.throws(() => openInputData([shaped([0, 48])], [nhwc]), { message: /has no samples \(shape \[0, 48\]\); at least one is needed/ });
  const two = [input('float32', [1, 2]), input('float32', [3])];
  t.throws(() => openInputData([shaped([2, 2])], two), {
    message: /Expected 2 \.npy files for --input \(one per model input: 0 'in_float32' float32 \[1, 2\]; 1 'in_float32' float32 \[3\]\) but received 1: /,
  });
  t.throws(() => openInputData([shaped([2, 2]), shaped([3, 3])], two), {
    message: /Expected the same number of samples in every --input file but '.*' has 2 and '.*' has 3/,
  });
  t.throws(() => openInputData([shaped([2, 2]), shaped([2, 3])], two, { scale: [1, 2, 3] }), {
    message: /Expected one value for --input-scale, or 2 \(one per model input\), but received 3: 1,2,3/,
  });
  const d = openInputData([shaped([2, 2]), shaped([2, 3])], two, { scale: [2, 3] });
  t.same(d.feeds.map((f) => f.scale), [2, 3], 'one scale per input');
  d.close();
});
