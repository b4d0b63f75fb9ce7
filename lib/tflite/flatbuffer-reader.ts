// A bounds-checked FlatBuffers reader. Every offset, vtable, vector length and string is checked
// against the file before it is followed, with the checks of the FlatBuffers verifier (alignment,
// vtable and table sizes, string terminators), so malformed input throws ModelFormatError naming
// the object and field instead of reading garbage.
//
// Time and memory stay bounded: offsets to sub-objects are unsigned and point forward, so they
// cannot form cycles; a vector's length is bounded by the bytes left after it; and a budget caps
// the total decoded elements so a file whose vectors all point at the same large object (legal in
// FlatBuffers, never written by converters) cannot make decoding quadratic.
import { ModelFormatError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

export class FlatReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly length: number;
  private budget: number;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.length;
    // Decoded units (tables, vector elements, string bytes / 8) of an unshared file stay below its
    // size; twice that plus slack lets legal sharing through and stops quadratic blow-ups.
    this.budget = 2 * bytes.length + (1 << 20);
  }

  fail(where: string, what: string): never {
    throw new ModelFormatError(`${where}: ${what}`);
  }

  spend(units: number, where: string): void {
    this.budget -= units;
    if (this.budget < 0) {
      this.fail(where, `the file decodes to far more objects than its ${this.length} bytes can hold (offsets shared in a loop-like pattern?)`);
    }
  }

  /** The root table, at the uoffset stored in the first 4 bytes. */
  root(where: string): Table {
    if (this.length < 8) this.fail(where, `${this.length} bytes is too short for a flatbuffer (at least 8)`);
    return this.table(this.uoffsetTarget(0, where), where);
  }

  /** The position a uoffset stored at `pos` points to (must lie inside the file). */
  uoffsetTarget(pos: number, where: string): number {
    if (pos % 4 !== 0) this.fail(where, `offset at ${hex(pos)} is not 4-byte aligned`);
    if (pos + 4 > this.length) this.fail(where, `offset at ${hex(pos)} lies past the end of the file (${this.length} bytes)`);
    const target = pos + this.view.getUint32(pos, true);
    if (target + 4 > this.length) {
      this.fail(where, `offset at ${hex(pos)} points to ${hex(target)}, past the end of the file (${this.length} bytes)`);
    }
    return target;
  }

  /** Checks the table at `pos` and its vtable. */
  table(pos: number, where: string): Table {
    this.spend(1, where);
    if (pos % 4 !== 0) this.fail(where, `table at ${hex(pos)} is not 4-byte aligned`);
    if (pos + 4 > this.length) this.fail(where, `table at ${hex(pos)} lies past the end of the file`);
    const vtable = pos - this.view.getInt32(pos, true);
    if (vtable < 0 || vtable % 2 !== 0 || vtable + 4 > this.length) {
      this.fail(where, `table at ${hex(pos)} has its vtable at ${hex(vtable)}, outside the file`);
    }
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0 || vtable + vtableSize > this.length) {
      this.fail(where, `table at ${hex(pos)}: corrupt vtable at ${hex(vtable)} (size ${vtableSize})`);
    }
    if (tableSize < 4 || pos + tableSize > this.length) {
      this.fail(where, `table at ${hex(pos)}: corrupt vtable at ${hex(vtable)} (table size ${tableSize} runs past the end of the file)`);
    }
    return new Table(this, pos, vtable, vtableSize, tableSize, where);
  }

  /** A vector's element count and first element position, with its bytes inside the file. */
  vector(pos: number, elementSize: number, where: string): { start: number; length: number } {
    if (pos % 4 !== 0) this.fail(where, `vector at ${hex(pos)} is not 4-byte aligned`);
    if (pos + 4 > this.length) this.fail(where, `vector at ${hex(pos)} lies past the end of the file`);
    const length = this.view.getUint32(pos, true);
    const start = pos + 4;
    if (length * elementSize > this.length - start) {
      this.fail(where, `vector of ${length} elements of ${elementSize} bytes at ${hex(pos)} runs past the end of the file (${this.length} bytes)`);
    }
    return { start, length };
  }

  string(pos: number, where: string): string {
    const { start, length } = this.vector(pos, 1, where);
    if (start + length >= this.length || this.bytes[start + length] !== 0) {
      this.fail(where, `string at ${hex(pos)} lacks its terminating zero byte`);
    }
    this.spend(1 + (length >>> 3), where);
    // Tensor names are short ASCII; skip TextDecoder's per-call cost for them.
    if (length <= 64) {
      let ascii = '';
      let i = start;
      for (; i < start + length; i++) {
        const c = this.bytes[i]!;
        if (c >= 0x80) break;
        ascii += String.fromCharCode(c);
      }
      if (i === start + length) return ascii;
    }
    try {
      return utf8.decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail(where, `string at ${hex(pos)} is not valid UTF-8`);
    }
  }
}

export class Table {
  constructor(
    readonly reader: FlatReader,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly tableSize: number,
    readonly where: string,
  ) {}

  /** The field's position in the file, or 0 when the field is absent; checks size and alignment. */
  field(slot: number, size: number, name: string): number {
    const entry = 4 + 2 * slot;
    if (entry >= this.vtableSize) return 0;
    const offset = this.reader.view.getUint16(this.vtable + entry, true);
    if (offset === 0) return 0;
    if (offset < 4 || offset + size > this.tableSize) {
      this.reader.fail(this.where, `field '${name}' at table offset ${offset} lies outside the table (${this.tableSize} bytes)`);
    }
    const pos = this.pos + offset;
    if (pos % size !== 0) this.reader.fail(this.where, `field '${name}' at ${hex(pos)} is not ${size}-byte aligned`);
    return pos;
  }

  has(slot: number): boolean {
    const entry = 4 + 2 * slot;
    return entry < this.vtableSize && this.reader.view.getUint16(this.vtable + entry, true) !== 0;
  }

  bool(slot: number, name: string, fallback = false): boolean {
    const p = this.field(slot, 1, name);
    return p === 0 ? fallback : this.reader.bytes[p] !== 0;
  }

  int8(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 1, name);
    return p === 0 ? fallback : this.reader.view.getInt8(p);
  }

  uint8(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 1, name);
    return p === 0 ? fallback : this.reader.bytes[p]!;
  }

  int16(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 2, name);
    return p === 0 ? fallback : this.reader.view.getInt16(p, true);
  }

  uint16(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 2, name);
    return p === 0 ? fallback : this.reader.view.getUint16(p, true);
  }

  int32(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 4, name);
    return p === 0 ? fallback : this.reader.view.getInt32(p, true);
  }

  uint32(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 4, name);
    return p === 0 ? fallback : this.reader.view.getUint32(p, true);
  }

  float32(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 4, name);
    return p === 0 ? fallback : this.reader.view.getFloat32(p, true);
  }

  float64(slot: number, name: string, fallback = 0): number {
    const p = this.field(slot, 8, name);
    return p === 0 ? fallback : this.reader.view.getFloat64(p, true);
  }

  int64(slot: number, name: string, fallback = 0n): bigint {
    const p = this.field(slot, 8, name);
    return p === 0 ? fallback : this.reader.view.getBigInt64(p, true);
  }

  uint64(slot: number, name: string, fallback = 0n): bigint {
    const p = this.field(slot, 8, name);
    return p === 0 ? fallback : this.reader.view.getBigUint64(p, true);
  }

  /** A uint64 field that must fit a JS number exactly (file offsets and sizes). */
  safeUint64(slot: number, name: string): number {
    const value = this.uint64(slot, name);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.reader.fail(this.where, `field '${name}' value ${value} is too large`);
    return Number(value);
  }

  /** Position of the object a uoffset field points to, or 0 when absent. */
  target(slot: number, name: string): number {
    const p = this.field(slot, 4, name);
    return p === 0 ? 0 : this.reader.uoffsetTarget(p, `${this.where}: field '${name}'`);
  }

  table(slot: number, name: string, where = `${this.where}: field '${name}'`): Table | null {
    const p = this.target(slot, name);
    return p === 0 ? null : this.reader.table(p, where);
  }

  string(slot: number, name: string): string {
    const p = this.target(slot, name);
    return p === 0 ? '' : this.reader.string(p, `${this.where}: field '${name}'`);
  }

  /** A vector field's element count and first element position, or null when absent. */
  vector(slot: number, name: string, elementSize: number): { start: number; length: number } | null {
    const p = this.target(slot, name);
    return p === 0 ? null : this.reader.vector(p, elementSize, `${this.where}: field '${name}'`);
  }

  /** A [ubyte] field as a view into the file (no copy), or null when absent. */
  bytes(slot: number, name: string): Uint8Array | null {
    const v = this.vector(slot, name, 1);
    return v === null ? null : this.reader.bytes.subarray(v.start, v.start + v.length);
  }

  int32Vector(slot: number, name: string): number[] | null {
    const v = this.vector(slot, name, 4);
    if (v === null) return null;
    this.reader.spend(v.length, this.where);
    const view = this.reader.view;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = view.getInt32(v.start + 4 * i, true);
    return out;
  }

  float32Vector(slot: number, name: string): number[] | null {
    const v = this.vector(slot, name, 4);
    if (v === null) return null;
    this.reader.spend(v.length, this.where);
    const view = this.reader.view;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = view.getFloat32(v.start + 4 * i, true);
    return out;
  }

  boolVector(slot: number, name: string): boolean[] | null {
    const v = this.vector(slot, name, 1);
    if (v === null) return null;
    this.reader.spend(v.length, this.where);
    const bytes = this.reader.bytes;
    const out = new Array<boolean>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = bytes[v.start + i] !== 0;
    return out;
  }

  /** An int64 vector as numbers; values beyond ±2^53 are rejected. */
  safeInt64Vector(slot: number, name: string): number[] | null {
    const v = this.vector(slot, name, 8);
    if (v === null) return null;
    this.reader.spend(v.length, this.where);
    const view = this.reader.view;
    const out = new Array<number>(v.length);
    for (let i = 0; i < v.length; i++) {
      const lo = view.getUint32(v.start + 8 * i, true);
      const hi = view.getInt32(v.start + 8 * i + 4, true);
      // hi in [-2^21, 2^21) keeps hi·2^32 + lo inside ±2^53.
      if (hi < -0x200000 || hi >= 0x200000) {
        this.reader.fail(this.where, `field '${name}' element ${i} (${view.getBigInt64(v.start + 8 * i, true)}) does not fit a JS number`);
      }
      out[i] = hi * 0x100000000 + lo;
    }
    return out;
  }

  /** Each element of a vector of tables. */
  tables(slot: number, name: string, element: (i: number) => string): Table[] | null {
    const v = this.vector(slot, name, 4);
    if (v === null) return null;
    const out = new Array<Table>(v.length);
    for (let i = 0; i < v.length; i++) {
      const where = element(i);
      out[i] = this.reader.table(this.reader.uoffsetTarget(v.start + 4 * i, where), where);
    }
    return out;
  }
}
