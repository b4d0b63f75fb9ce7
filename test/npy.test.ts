// lib/npy.ts: every dtype round-trips, numpy's header variants parse (versions 1-3, big-endian,
// Python 2 'L' dims), bad files fail with messages that name the file and the problem, the
// lazy reader matches the whole-file reader, and the streaming writer is atomic.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import { InvalidArgumentError } from '../lib/errors.js';
import { createNpyWriter, openNpy, readNpy, readNpyFile, writeNpy, writeNpyFile, type NpyArray } from '../lib/npy.js';

const work = mkdtempSync(join(tmpdir(), 'litequant-npy-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** A .npy file with this header text (padded as numpy does) and raw data bytes. */
function npyBytes(header: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const total = Math.ceil((prefix + header.length + 1) / 64) * 64;
  const text = `${header.padEnd(total - prefix - 1, ' ')}\n`;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(new TextEncoder().encode(text), prefix);
  out.set(data, total);
  return out;
}

const f4 = (values: number[]): Uint8Array => new Uint8Array(new Float32Array(values).buffer);

t.test('every dtype round-trips, data on a 64-byte boundary', async (t) => {
  const arrays: NpyArray[] = [
    { dtype: 'b1', shape: [4], data: new Uint8Array([0, 1, 1, 0]) },
    { dtype: 'u1', shape: [2, 3], data: new Uint8Array([0, 1, 2, 253, 254, 255]) },
    { dtype: 'i1', shape: [3], data: new Int8Array([-128, 0, 127]) },
    { dtype: 'u2', shape: [2], data: new Uint16Array([0, 65535]) },
    { dtype: 'i2', shape: [1, 2], data: new Int16Array([-32768, 32767]) },
    { dtype: 'u4', shape: [2], data: new Uint32Array([0, 2 ** 32 - 1]) },
    { dtype: 'i4', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    { dtype: 'u8', shape: [2], data: new BigUint64Array([0n, 2n ** 64n - 1n]) },
    { dtype: 'i8', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    { dtype: 'f4', shape: [2, 1, 1], data: new Float32Array([0.5, -1e-8]) },
    { dtype: 'f8', shape: [], data: new Float64Array([Math.PI]) },
    { dtype: 'f4', shape: [0, 3], data: new Float32Array(0) },
  ];
  for (const array of arrays) {
    const bytes = writeNpy(array);
    t.equal((bytes.length - array.data.byteLength) % 64, 0, `${array.dtype}: data starts on a 64-byte boundary`);
    const back = readNpy(bytes);
    t.same([back.dtype, back.shape, Array.from(back.data as ArrayLike<unknown>)], [array.dtype, array.shape, Array.from(array.data as ArrayLike<unknown>)], `${array.dtype} [${array.shape.join(',')}]`);
  }
  const header = new TextDecoder().decode(writeNpy({ dtype: 'i2', shape: [3], data: new Int16Array(3) }).subarray(10, 90));
  t.match(header, /^\{'descr': '<i2', 'fortran_order': False, 'shape': \(3,\), \}/, "numpy's header layout, 1-tuple with a comma");
});

t.test("numpy's header variants: versions 2.0 and 3.0, big-endian data, Python 2 dims, double quotes", async (t) => {
  const v2 = readNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4([1.5, -2]), 2));
  t.same([v2.shape, Array.from(v2.data as Float32Array)], [[2], [1.5, -2]], 'version 2.0');
  const v3 = readNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4([3]), 3));
  t.same(Array.from(v3.data as Float32Array), [3], 'version 3.0');
  const be = new Uint8Array([0x00, 0x00, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe]);
  const big = readNpy(npyBytes("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }", be));
  t.same(Array.from(big.data as Int32Array), [0x0102, -2], 'big-endian int32 swapped');
  const py2 = readNpy(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L)}", f4([1, 2])));
  t.same(py2.shape, [1, 2], "Python 2 'L' dims, no trailing comma");
  const dq = readNpy(npyBytes('{"descr": "|u1", "shape": (2,), "fortran_order": False}', new Uint8Array([7, 8])));
  t.same([dq.dtype, Array.from(dq.data as Uint8Array)], ['u1', [7, 8]], 'double quotes, any key order');
  const extra = readNpy(new Uint8Array([...writeNpy({ dtype: 'u1', shape: [1], data: new Uint8Array([5]) }), 9, 9]));
  t.same(Array.from(extra.data as Uint8Array), [5], 'bytes after the data are ignored, as numpy does');
});

t.test('bad data: an InvalidArgumentError that names the file and the problem', async (t) => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['no magic', new TextEncoder().encode('just some text, not numpy'), /magic string/],
    ['version 4', (() => { const b = writeNpy({ dtype: 'u1', shape: [1], data: new Uint8Array(1) }); b[6] = 4; return b; })(), /format version 4\.0 is not supported/],
    ['float16', npyBytes("{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(4)), /dtype '<f2' is not supported \(float16: convert with x\.astype\(np\.float32\)\)/],
    ['unicode', npyBytes("{'descr': '<U3', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(12)), /dtype '<U3' is not supported/],
    ['object', npyBytes("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /dtype '\|O' is not supported/],
    ['structured', npyBytes("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", new Uint8Array(8)), /structured dtypes/],
    ['fortran', npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)), /Fortran-order arrays are not supported/],
    ['no shape', npyBytes("{'descr': '<f4', 'fortran_order': False, }", new Uint8Array(4)), /no 'shape' tuple/],
    ['garbage header', npyBytes("{'descr': '<f4', 'fortran_order': Nope, 'shape': (1,), }", new Uint8Array(4)), /malformed header \(expected a value/],
    ['truncated data', writeNpy({ dtype: 'f4', shape: [4], data: new Float32Array(4) }).subarray(0, 128 + 10), /truncated: shape \(4\) of float32 needs 144 bytes, the file has 138/],
    ['truncated header', writeNpy({ dtype: 'f4', shape: [4], data: new Float32Array(4) }).subarray(0, 30), /the file ends inside the header/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const path = join(work, `${name.replace(/ /g, '-')}.npy`);
    writeFileSync(path, bytes);
    for (const [how, read] of [['readNpyFile', () => readNpyFile(path)], ['openNpy', () => openNpy(path)]] as const) {
      try {
        read();
        t.fail(`${name} (${how}): no error`);
      } catch (error) {
        t.type(error, InvalidArgumentError, `${name} (${how})`);
        t.equal((error as InvalidArgumentError).code, 'ERR_LITEQUANT_INVALID_ARGUMENT');
        t.match((error as Error).message, `Cannot read '${path}' as a NumPy .npy file: `, `${name} (${how}): names the file`);
        t.match((error as Error).message, pattern, `${name} (${how}): says what is wrong`);
      }
    }
  }
  t.throws(() => readNpyFile(join(work, 'absent.npy')), { message: /Cannot read '.*absent\.npy': ENOENT/ });
  t.throws(() => openNpy(join(work, 'absent.npy')), { message: /Cannot read '.*absent\.npy': ENOENT/ });
  t.throws(() => readNpy(new Uint8Array(20)), { message: /Cannot read the \.npy data as a NumPy \.npy file: the magic string/ });
});

t.test('openNpy reads samples from disk on demand, equal to the whole-file reader', async (t) => {
  const data = Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => i * 0.25 - 3);
  const path = join(work, 'samples.npy');
  writeNpyFile(path, { dtype: 'f4', shape: [5, 2, 3], data });
  const file = openNpy(path);
  t.same([file.dtype, file.shape, file.samples, file.sampleShape, file.sampleLength], ['f4', [5, 2, 3], 5, [2, 3], 6]);
  for (let i = 0; i < 5; i++) t.same(Array.from(file.read(i) as Float32Array), Array.from(data.subarray(i * 6, (i + 1) * 6)), `sample ${i}`);
  t.same(Array.from(file.read(1, 3) as Float32Array), Array.from(data.subarray(6, 24)), 'samples 1..3 in one read');
  t.throws(() => file.read(5), { message: /Expected a sample index from 0 to 4 for start/ });
  t.throws(() => file.read(3, 3), { message: /Expected a count from 1 to 2 for count/ });
  file.close();
  t.throws(() => file.read(0), { message: /the file is closed/ });

  const be = join(work, 'big-endian.npy');
  writeFileSync(be, npyBytes("{'descr': '>i2', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array([0, 1, 0, 2, 0xff, 0xfe, 1, 0])));
  const bf = openNpy(be);
  t.same([Array.from(bf.read(0) as Int16Array), Array.from(bf.read(1) as Int16Array)], [[1, 2], [-2, 256]], 'big-endian samples swapped');
  bf.close();

  const scalar = join(work, 'scalar.npy');
  writeNpyFile(scalar, { dtype: 'f8', shape: [], data: new Float64Array([1]) });
  t.throws(() => openNpy(scalar), { message: /holds a scalar \(shape \(\)\), not samples/ });
});

t.test('createNpyWriter: streamed appends give the same bytes as writeNpy, atomically', async (t) => {
  const data = Int16Array.from({ length: 3000 }, (_, i) => i - 1500);
  const path = join(work, 'stream.npy');
  const writer = createNpyWriter(path, 'i2', [1000, 3]);
  t.notOk(existsSync(path), 'nothing at the destination while writing');
  for (let i = 0; i < 1000; i++) writer.append(data.subarray(i * 3, (i + 1) * 3));
  writer.commit();
  t.same(new Uint8Array(readFileSync(path)), writeNpy({ dtype: 'i2', shape: [1000, 3], data }));
  t.same(readdirSync(work).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');

  // A short or a failed write leaves the previous file untouched and no temp file.
  const short = createNpyWriter(path, 'i2', [2, 3]);
  short.append(new Int16Array(3));
  t.throws(() => short.commit(), { message: /Expected 6 elements for '.*stream\.npy' \(shape \[2, 3\]\) but 3 were appended/ });
  const wrongType = createNpyWriter(path, 'i2', [1]);
  t.throws(() => wrongType.append(new Float32Array(1)), { message: /Expected a Int16Array for dtype i2/ });
  t.throws(() => wrongType.append(new Int16Array(2)), { message: /Expected at most 1 more elements/ });
  wrongType.abort();
  t.same(new Uint8Array(readFileSync(path)), writeNpy({ dtype: 'i2', shape: [1000, 3], data }), 'previous file intact');
  t.same(readdirSync(work).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');

  t.throws(() => createNpyWriter(join(work, 'no-such-dir', 'x.npy'), 'f4', [1]), {
    message: /Cannot write '.*no-such-dir\/x\.npy': ENOENT \(the directory does not exist\)/,
  });
  t.throws(() => writeNpy({ dtype: 'f4', shape: [2], data: new Float32Array(3) }), { message: /Expected 2 elements for shape \[2\] but received 3/ });
  t.throws(() => writeNpy({ dtype: 'f4', shape: [1], data: new Int8Array(1) }), { message: /Expected a Float32Array for dtype f4 for array\.data but received an Int8Array/ });
});
