// NumPy .npy files: format versions 1.0, 2.0 and 3.0, C order, numeric dtypes (bool, u1 i1 u2
// i2 u4 i4 u8 i8 f4 f8; big-endian files are byte-swapped on read). The rules are those of
// numpy.lib.format: a magic string, a version, a little-endian header length, a Python dict
// literal {'descr', 'fortran_order', 'shape'}, then the data.
//
// - readNpy(bytes) / readNpyFile(path): the whole array in memory.
// - openNpy(path): the header only; samples (slices along the first axis) are read from disk on
//   demand, so calibration files larger than memory can be streamed.
// - writeNpy(array) -> bytes; writeNpyFile(path, array) and createNpyWriter(path, ...) write
//   atomically (lib/fs-atomic.ts): a temp file renamed into place when complete.
// Every problem is an InvalidArgumentError that names the file and what is wrong with it.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

import { expected, InvalidArgumentError } from './errors.js';
import { openAtomic, writeError, writeFileAtomic, type AtomicFile } from './fs-atomic.js';

/** NumPy dtype codes without the byte-order character ('b1' is numpy's bool). */
export type NpyDtype = 'b1' | 'u1' | 'i1' | 'u2' | 'i2' | 'u4' | 'i4' | 'u8' | 'i8' | 'f4' | 'f8';
export type NpyData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Owns its memory (a copy of the file's data section). bool is a Uint8Array of 0/1. */
  readonly data: NpyData;
}

type NpyConstructor = { new (length: number): NpyData; new (buffer: ArrayBuffer): NpyData; readonly BYTES_PER_ELEMENT: number; readonly name: string };

const CONSTRUCTORS: Readonly<Record<NpyDtype, NpyConstructor>> = {
  b1: Uint8Array,
  u1: Uint8Array,
  i1: Int8Array,
  u2: Uint16Array,
  i2: Int16Array,
  u4: Uint32Array,
  i4: Int32Array,
  u8: BigUint64Array,
  i8: BigInt64Array,
  f4: Float32Array,
  f8: Float64Array,
};

/** The typed array class that holds each dtype. */
export function npyArrayType(dtype: NpyDtype): NpyConstructor {
  return CONSTRUCTORS[dtype];
}

/** NumPy's name for a dtype code, for messages. */
export const NPY_DTYPE_NAMES: Readonly<Record<NpyDtype, string>> = {
  b1: 'bool',
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  u8: 'uint64',
  i8: 'int64',
  f4: 'float32',
  f8: 'float64',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** No real header comes close; a bound so a corrupt length cannot ask for gigabytes. */
const MAX_HEADER = 1 << 20;

function badFile(name: string, problem: string): InvalidArgumentError {
  return new InvalidArgumentError(`Cannot read ${name} as a NumPy .npy file: ${problem}`);
}

interface Header {
  readonly dtype: NpyDtype;
  readonly shape: number[];
  /** The data is big-endian and must be byte-swapped. */
  readonly swap: boolean;
  /** Offset of the data section. */
  readonly dataStart: number;
  /** Bytes of data the shape and dtype call for. */
  readonly dataBytes: number;
}

/** The fixed prefix: magic, version, header length. Needs the first 12 bytes (fewer for v1). */
function parsePrefix(bytes: Uint8Array, name: string): { headerStart: number; headerLength: number; utf8: boolean } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw badFile(name, 'the magic string \\x93NUMPY is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major === 1) return { headerStart: 10, headerLength: view.getUint16(8, true), utf8: false };
  if (major !== 2 && major !== 3) throw badFile(name, `format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`);
  if (bytes.length < 12) throw badFile(name, 'the file ends inside the header');
  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_HEADER) throw badFile(name, `the header claims ${headerLength} bytes`);
  return { headerStart: 12, headerLength, utf8: major === 3 };
}

/** A tiny reader for the header's Python literal: a dict of strings, booleans and int tuples. */
type Literal = string | boolean | number[] | null;

function parseDict(text: string, name: string): Map<string, Literal> {
  let i = 0;
  const fail = (what: string): never => {
    throw badFile(name, `malformed header (${what} at character ${i}): ${text.trim()}`);
  };
  const space = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const take = (c: string): void => {
    space();
    if (text[i] !== c) fail(`expected '${c}'`);
    i++;
  };
  const string = (): string => {
    space();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return fail('expected a string');
    const end = text.indexOf(quote, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    i = end + 1;
    return s;
  };
  const value = (): Literal => {
    space();
    const c = text[i];
    if (c === "'" || c === '"') return string();
    if (c === '(') {
      i++;
      const dims: number[] = [];
      for (;;) {
        space();
        if (text[i] === ')') break;
        const m = /^(\d+)L?/.exec(text.slice(i));
        if (m === null) return fail('expected a dimension');
        dims.push(Number(m[1]));
        i += m[0].length;
        space();
        if (text[i] === ',') i++;
        else if (text[i] !== ')') fail("expected ',' or ')'");
      }
      i++;
      return dims;
    }
    if (c === '[') {
      // A structured dtype's field list: skip it, the caller reports the dtype as unsupported.
      let depth = 0;
      do {
        if (text[i] === '[') depth++;
        else if (text[i] === ']') depth--;
        i++;
      } while (depth > 0 && i < text.length);
      return null;
    }
    for (const [word, v] of [['True', true], ['False', false]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail('expected a value');
  };
  const dict = new Map<string, Literal>();
  take('{');
  for (;;) {
    space();
    if (text[i] === '}') break;
    const key = string();
    take(':');
    dict.set(key, value());
    space();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail("expected ',' or '}'");
  }
  i++;
  space();
  if (i !== text.length) fail('text after the dict');
  return dict;
}

function parseHeader(prefix: Uint8Array, name: string): Header & { headerEnd: number } {
  const { headerStart, headerLength, utf8 } = parsePrefix(prefix, name);
  const headerEnd = headerStart + headerLength;
  if (prefix.length < headerEnd) throw badFile(name, `the file ends inside the header (${headerEnd} bytes expected)`);
  const text = new TextDecoder(utf8 ? 'utf-8' : 'latin1').decode(prefix.subarray(headerStart, headerEnd));
  const dict = parseDict(text, name);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') {
    throw badFile(name, descr === null ? 'structured dtypes (records) are not supported' : "the header has no 'descr' string");
  }
  if (typeof fortran !== 'boolean') throw badFile(name, "the header has no 'fortran_order' boolean");
  if (!Array.isArray(shape)) throw badFile(name, "the header has no 'shape' tuple");
  const m = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const code = m?.[2];
  if (m === null || code === undefined || !(code in CONSTRUCTORS)) {
    const hint = descr.endsWith('f2') ? ' (float16: convert with x.astype(np.float32))' : '';
    throw badFile(name, `dtype '${descr}' is not supported${hint}; supported: bool, (u)int8/16/32/64, float32, float64`);
  }
  if (fortran) throw badFile(name, 'Fortran-order arrays are not supported (save np.ascontiguousarray(x))');
  const dtype = code as NpyDtype;
  const size = CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count * size)) throw badFile(name, `shape (${shape.join(', ')}) is too large`);
  return { dtype, shape, swap: m[1] === '>' && size > 1, dataStart: headerEnd, dataBytes: count * size, headerEnd };
}

function byteSwap(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** A typed array over a fresh, aligned copy of `bytes` (swapped to little-endian if needed). */
function toArray(dtype: NpyDtype, bytes: Uint8Array, swap: boolean): NpyData {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const Ctor = CONSTRUCTORS[dtype];
  if (swap) byteSwap(copy, Ctor.BYTES_PER_ELEMENT);
  return new Ctor(copy.buffer);
}

/** Parses a whole .npy file held in memory. `name` is used in error messages. */
export function readNpy(bytes: Uint8Array, name = 'the .npy data'): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw expected('a Uint8Array', 'bytes', bytes);
  const h = parseHeader(bytes, name);
  const end = h.dataStart + h.dataBytes;
  if (end > bytes.length) {
    throw badFile(name, `truncated: shape (${h.shape.join(', ')}) of ${NPY_DTYPE_NAMES[h.dtype]} needs ${end} bytes, the file has ${bytes.length}`);
  }
  // Copy so the result is aligned and does not pin the caller's buffer.
  return { dtype: h.dtype, shape: h.shape, data: toArray(h.dtype, bytes.subarray(h.dataStart, end), h.swap) };
}

function readError(path: string, error: unknown): InvalidArgumentError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new InvalidArgumentError(`Cannot read '${path}': ${code}`, { cause: error });
}

/** Reads and parses a whole .npy file. */
export function readNpyFile(path: string): NpyArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw readError(path, error);
  }
  return readNpy(bytes, `'${path}'`);
}

/**
 * An open .npy file whose data stays on disk: read(start, count) reads `count` samples (slices
 * along the first axis) with one positioned read. Call close() when done.
 */
export class NpyFile {
  readonly path: string;
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** shape[0]. */
  readonly samples: number;
  /** The shape of one sample: shape without its first axis. */
  readonly sampleShape: readonly number[];
  /** Elements per sample. */
  readonly sampleLength: number;
  #fd: number | null;
  readonly #dataStart: number;
  readonly #swap: boolean;

  /** Use openNpy. */
  constructor(path: string, fd: number, header: Header) {
    this.path = path;
    this.dtype = header.dtype;
    this.shape = header.shape;
    this.samples = header.shape[0] ?? 0;
    this.sampleShape = header.shape.slice(1);
    this.sampleLength = this.sampleShape.reduce((a, b) => a * b, 1);
    this.#fd = fd;
    this.#dataStart = header.dataStart;
    this.#swap = header.swap;
  }

  /** Samples start .. start+count-1, as one typed array of count × sampleLength elements. */
  read(start: number, count = 1): NpyData {
    if (!Number.isInteger(start) || start < 0 || start >= this.samples) {
      throw expected(`a sample index from 0 to ${this.samples - 1}`, `start (reading '${this.path}')`, start);
    }
    if (!Number.isInteger(count) || count < 1 || start + count > this.samples) {
      throw expected(`a count from 1 to ${this.samples - start}`, `count (reading '${this.path}' from sample ${start})`, count);
    }
    const fd = this.#fd;
    if (fd === null) throw new InvalidArgumentError(`Cannot read '${this.path}': the file is closed`);
    const size = CONSTRUCTORS[this.dtype].BYTES_PER_ELEMENT;
    const sampleBytes = this.sampleLength * size;
    const bytes = new Uint8Array(count * sampleBytes);
    let done = 0;
    try {
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, this.#dataStart + start * sampleBytes + done);
        if (n === 0) throw badFile(`'${this.path}'`, 'the file was truncated while being read');
        done += n;
      }
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error;
      throw readError(this.path, error);
    }
    const Ctor = CONSTRUCTORS[this.dtype];
    if (this.#swap) byteSwap(bytes, size);
    return new Ctor(bytes.buffer);
  }

  close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
  }
}

/** Opens a .npy file and reads its header; the data is read on demand by NpyFile.read. */
export function openNpy(path: string): NpyFile {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw readError(path, error);
  }
  try {
    const size = fstatSync(fd).size;
    const name = `'${path}'`;
    const readAt = (length: number): Uint8Array => {
      const bytes = new Uint8Array(Math.min(length, size));
      let done = 0;
      while (done < bytes.length) {
        const n = readSync(fd, bytes, done, bytes.length - done, done);
        if (n === 0) break;
        done += n;
      }
      return bytes.subarray(0, done);
    };
    const { headerStart, headerLength } = parsePrefix(readAt(12), name);
    const header = parseHeader(readAt(headerStart + headerLength), name);
    if (header.shape.length === 0) throw badFile(name, 'it holds a scalar (shape ()), not samples along a first axis');
    const end = header.dataStart + header.dataBytes;
    if (end > size) {
      throw badFile(
        name,
        `truncated: shape (${header.shape.join(', ')}) of ${NPY_DTYPE_NAMES[header.dtype]} needs ${end} bytes, the file has ${size}`,
      );
    }
    return new NpyFile(path, fd, header);
  } catch (error) {
    closeSync(fd);
    if (error instanceof InvalidArgumentError) throw error;
    throw readError(path, error);
  }
}

function checkArray(array: NpyArray): void {
  if (array === null || typeof array !== 'object') throw expected('an object {dtype, shape, data}', 'array', array);
  const Ctor = (CONSTRUCTORS as Record<string, NpyConstructor | undefined>)[array.dtype];
  if (Ctor === undefined) throw expected(`one of ${Object.keys(CONSTRUCTORS).join(', ')}`, 'array.dtype', array.dtype);
  if (!Array.isArray(array.shape) || !array.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw expected('an array of non-negative integers', 'array.shape', array.shape);
  }
  if (!(array.data instanceof Ctor)) throw expected(`a ${Ctor.name} for dtype ${array.dtype}`, 'array.data', array.data);
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) {
    throw new InvalidArgumentError(`Expected ${count} elements for shape [${array.shape.join(', ')}] but received ${array.data.length}`);
  }
}

/** The header (magic to padding) of an array of this dtype and shape, data 64-byte aligned. */
function encodeHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const byteOrder = CONSTRUCTORS[dtype].BYTES_PER_ELEMENT === 1 ? '|' : '<';
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '${byteOrder}${dtype}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Version 1.0 unless the header needs more than 64 KiB (2.0); it ends with '\n'.
  const major = dict.length + 11 + 64 > 0xffff ? 2 : 1;
  const prefix = major === 1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const text = `${dict.padEnd(total - prefix - 1, ' ')}\n`;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(new TextEncoder().encode(text), prefix);
  return out;
}

function bytesOf(data: NpyData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Encodes an array as a .npy file (version 1.0, little-endian, C order). */
export function writeNpy(array: NpyArray): Uint8Array {
  checkArray(array);
  const header = encodeHeader(array.dtype, array.shape);
  const out = new Uint8Array(header.length + array.data.byteLength);
  out.set(header, 0);
  out.set(bytesOf(array.data), header.length);
  return out;
}

/** Writes an array to `path` atomically: a reader sees the old file or the complete new one. */
export function writeNpyFile(path: string, array: NpyArray): void {
  writeFileAtomic(path, writeNpy(array));
}

/**
 * Writes a .npy file piece by piece (the shape is fixed up front): append() the elements in C
 * order, then commit() puts the file in place atomically, or abort() removes it. The data goes
 * to a temporary file in the destination's directory meanwhile.
 */
export class NpyWriter {
  readonly path: string;
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Elements the shape calls for. */
  readonly length: number;
  readonly #file: AtomicFile;
  #appended = 0;
  // Small appends are gathered into one write.
  readonly #chunk = new Uint8Array(1 << 20);
  #used = 0;

  /** Use createNpyWriter. */
  constructor(file: AtomicFile, dtype: NpyDtype, shape: readonly number[]) {
    this.path = file.path;
    this.dtype = dtype;
    this.shape = shape;
    this.length = shape.reduce((a, b) => a * b, 1);
    this.#file = file;
    this.#file.write(encodeHeader(dtype, shape));
  }

  /** Elements appended so far. */
  get appended(): number {
    return this.#appended;
  }

  append(data: NpyData): void {
    const Ctor = CONSTRUCTORS[this.dtype];
    if (!(data instanceof Ctor)) throw expected(`a ${Ctor.name} for dtype ${this.dtype}`, `data appended to '${this.path}'`, data);
    if (this.#appended + data.length > this.length) {
      throw new InvalidArgumentError(
        `Expected at most ${this.length - this.#appended} more elements for '${this.path}' (shape [${this.shape.join(', ')}]) but received ${data.length}`,
      );
    }
    const bytes = bytesOf(data);
    if (this.#used + bytes.length > this.#chunk.length) this.#flush();
    if (bytes.length >= this.#chunk.length) this.#file.write(bytes);
    else {
      this.#chunk.set(bytes, this.#used);
      this.#used += bytes.length;
    }
    this.#appended += data.length;
  }

  #flush(): void {
    if (this.#used === 0) return;
    this.#file.write(this.#chunk.subarray(0, this.#used));
    this.#used = 0;
  }

  /** Puts the file in place; every element of the shape must have been appended. */
  commit(): void {
    if (this.#appended !== this.length) {
      this.abort();
      throw new InvalidArgumentError(
        `Expected ${this.length} elements for '${this.path}' (shape [${this.shape.join(', ')}]) but ${this.#appended} were appended`,
      );
    }
    this.#flush();
    this.#file.commit();
  }

  /** Removes the temporary file; the destination is untouched. */
  abort(): void {
    this.#file.abort();
  }
}

/** Starts writing a .npy file of this dtype and shape (see NpyWriter). */
export function createNpyWriter(path: string, dtype: NpyDtype, shape: readonly number[]): NpyWriter {
  if (!(dtype in CONSTRUCTORS)) throw expected(`one of ${Object.keys(CONSTRUCTORS).join(', ')}`, 'dtype', dtype);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw expected('an array of non-negative integers', 'shape', shape);
  const file = openAtomic(path);
  try {
    return new NpyWriter(file, dtype, shape);
  } catch (error) {
    file.abort();
    throw error instanceof InvalidArgumentError ? error : writeError(path, error);
  }
}
