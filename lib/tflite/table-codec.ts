// Reads and writes tables by their generated description (schema.ts TABLES) instead of by hand:
// every builtin options table of both options unions, the quantization details and sparse index
// vector unions, SparsityParameters and VariantSubType. Also the vector-building helpers the
// hand-written writer shares.
//
// Decoded form (documented with the generated interfaces): scalars default-filled, int64 as
// bigint, strings '' when absent, vectors and sub-tables null when absent, [ubyte] as Uint8Array
// views, union members tagged with `kind` (their table name). Deprecated fields are skipped.
import type { Builder } from 'flatbuffers';

import { expected } from '../errors.js';
import type { Table } from './flatbuffer-reader.js';
import { TABLES, UNIONS, type FieldDef, type ScalarType, type TableDef, type UnionDef } from './schema.js';

type Decoded = Record<string, unknown>;

const SCALAR_SIZE: Readonly<Record<ScalarType, number>> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4,
  int64: 8, uint64: 8, float32: 4, float64: 8,
};

export function tableDef(name: string): TableDef {
  const def = TABLES[name];
  if (def === undefined) throw new Error(`schema has no table ${name}`);
  return def;
}

function unionDef(name: string): UnionDef {
  const def = UNIONS[name];
  if (def === undefined) throw new Error(`schema has no union ${name}`);
  return def;
}

// tag → member table and member table → tag, built once per union.
const memberByTag = new Map<string, Map<number, TableDef>>();
const tagByMember = new Map<string, Map<string, number>>();
function unionMaps(name: string): { byTag: Map<number, TableDef>; byName: Map<string, number> } {
  let byTag = memberByTag.get(name);
  let byName = tagByMember.get(name);
  if (byTag === undefined || byName === undefined) {
    byTag = new Map();
    byName = new Map();
    for (const m of unionDef(name).members) {
      byTag.set(m.tag, tableDef(m.table));
      byName.set(m.table, m.tag);
    }
    memberByTag.set(name, byTag);
    tagByMember.set(name, byName);
  }
  return { byTag, byName };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Decodes a table (or, for null, an absent one: every field at its default). */
export function decodeTable(table: Table | null, def: TableDef, tagged: boolean): Decoded {
  const out: Decoded = {};
  if (tagged) out['kind'] = def.name;
  for (const f of def.fields) {
    if (f.deprecated) continue;
    out[f.key] = table === null ? absentValue(f) : decodeField(table, f);
  }
  return out;
}

function absentValue(f: FieldDef): unknown {
  if (f.kind === 'scalar' && !f.vector) return f.default;
  if (f.kind === 'string' && !f.vector) return '';
  return null;
}

/** Decodes the union whose value is in slot `id` and tag in slot `id - 1`; null for NONE. */
export function decodeUnion(table: Table, unionName: string, id: number, name: string): Decoded | null {
  const tag = table.uint8(id - 1, `${name}_type`);
  if (tag === 0) return null;
  const member = unionMaps(unionName).byTag.get(tag);
  if (member === undefined) {
    table.reader.fail(table.where, `field '${name}_type' has unknown ${unionName} type ${tag} (this schema knows ${unionDef(unionName).members.length})`);
  }
  // A tag without its table reads as the table with every field at its default, as in TFLite.
  const value = table.table(id, name);
  return decodeTable(value, member, true);
}

function decodeField(t: Table, f: FieldDef): unknown {
  const { id, name } = f;
  switch (f.kind) {
    case 'scalar':
      return f.vector ? decodeScalarVector(t, f) : decodeScalar(t, f);
    case 'string': {
      if (!f.vector) return t.string(id, name);
      const v = t.vector(id, name, 4);
      if (v === null) return null;
      const out: string[] = [];
      for (let i = 0; i < v.length; i++) {
        const where = `${t.where}: field '${name}' element ${i}`;
        out.push(t.reader.string(t.reader.uoffsetTarget(v.start + 4 * i, where), where));
      }
      return out;
    }
    case 'table': {
      const def = tableDef(f.ref!);
      if (!f.vector) {
        const sub = t.table(id, name);
        return sub === null ? null : decodeTable(sub, def, false);
      }
      const subs = t.tables(id, name, (i) => `${t.where}: field '${name}' element ${i}`);
      return subs === null ? null : subs.map((s) => decodeTable(s, def, false));
    }
    case 'union':
      return decodeUnion(t, f.ref!, id, name);
    case 'struct':
      throw new Error(`structs are not supported (${name})`);
  }
}

function decodeScalar(t: Table, f: FieldDef): unknown {
  const { id, name } = f;
  switch (f.type!) {
    case 'bool': return t.bool(id, name, f.default as boolean);
    case 'int8': return t.int8(id, name, f.default as number);
    case 'uint8': return t.uint8(id, name, f.default as number);
    case 'int16': return t.int16(id, name, f.default as number);
    case 'uint16': return t.uint16(id, name, f.default as number);
    case 'int32': return t.int32(id, name, f.default as number);
    case 'uint32': return t.uint32(id, name, f.default as number);
    case 'int64': return t.int64(id, name, f.default as bigint);
    case 'uint64': return t.uint64(id, name, f.default as bigint);
    case 'float32': return t.float32(id, name, f.default as number);
    case 'float64': return t.float64(id, name, f.default as number);
  }
}

function decodeScalarVector(t: Table, f: FieldDef): unknown {
  const type = f.type!;
  if (type === 'uint8' && f.enum === undefined) return t.bytes(f.id, f.name);
  const v = t.vector(f.id, f.name, SCALAR_SIZE[type]);
  if (v === null) return null;
  t.reader.spend(v.length, t.where);
  const view = t.reader.view;
  const out = new Array<unknown>(v.length);
  for (let i = 0; i < v.length; i++) {
    const p = v.start + SCALAR_SIZE[type] * i;
    switch (type) {
      case 'bool': out[i] = view.getUint8(p) !== 0; break;
      case 'int8': out[i] = view.getInt8(p); break;
      case 'uint8': out[i] = view.getUint8(p); break;
      case 'int16': out[i] = view.getInt16(p, true); break;
      case 'uint16': out[i] = view.getUint16(p, true); break;
      case 'int32': out[i] = view.getInt32(p, true); break;
      case 'uint32': out[i] = view.getUint32(p, true); break;
      case 'int64': out[i] = view.getBigInt64(p, true); break;
      case 'uint64': out[i] = view.getBigUint64(p, true); break;
      case 'float32': out[i] = view.getFloat32(p, true); break;
      case 'float64': out[i] = view.getFloat64(p, true); break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

const INT_RANGE: Readonly<Partial<Record<ScalarType, readonly [number, number]>>> = {
  int8: [-0x80, 0x7f], uint8: [0, 0xff], int16: [-0x8000, 0x7fff], uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff], uint32: [0, 0xffffffff],
};
const BIG_RANGE: Readonly<Partial<Record<ScalarType, readonly [bigint, bigint]>>> = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

/** Whether a value can be written as the scalar type (the builder would silently truncate it). */
export function fitsScalar(value: unknown, type: ScalarType): boolean {
  if (type === 'bool') return typeof value === 'boolean';
  if (type === 'float32' || type === 'float64') return typeof value === 'number';
  const big = BIG_RANGE[type];
  if (big !== undefined) return typeof value === 'bigint' && value >= big[0] && value <= big[1];
  const [lo, hi] = INT_RANGE[type]!;
  return typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi;
}

export function checkScalar(value: unknown, type: ScalarType, param: string): void {
  if (!fitsScalar(value, type)) throw expected(describeScalarType(type), param, value);
}

function describeScalarType(type: ScalarType): string {
  if (type === 'bool') return 'a boolean';
  if (type === 'float32' || type === 'float64') return `a number (${type})`;
  if (type === 'int64' || type === 'uint64') return `an ${type} bigint`;
  return `an ${type} integer`;
}

function addScalar(b: Builder, type: ScalarType, value: unknown): void {
  switch (type) {
    case 'bool': b.addInt8(value ? 1 : 0); break;
    case 'int8': case 'uint8': b.addInt8(value as number); break;
    case 'int16': case 'uint16': b.addInt16(value as number); break;
    case 'int32': case 'uint32': b.addInt32(value as number); break;
    case 'int64': case 'uint64': b.addInt64(value as bigint); break;
    case 'float32': b.addFloat32(value as number); break;
    case 'float64': b.addFloat64(value as number); break;
  }
}

function addScalarField(b: Builder, f: FieldDef, value: unknown): void {
  const slot = f.id;
  switch (f.type!) {
    case 'bool': b.addFieldInt8(slot, value ? 1 : 0, f.default ? 1 : 0); break;
    case 'int8': case 'uint8': b.addFieldInt8(slot, value as number, f.default as number); break;
    case 'int16': case 'uint16': b.addFieldInt16(slot, value as number, f.default as number); break;
    case 'int32': case 'uint32': b.addFieldInt32(slot, value as number, f.default as number); break;
    case 'int64': case 'uint64': b.addFieldInt64(slot, value as bigint, f.default as bigint); break;
    case 'float32': b.addFieldFloat32(slot, value as number, f.default as number); break;
    case 'float64': b.addFieldFloat64(slot, value as number, f.default as number); break;
  }
}

/** A byte vector whose data starts at a multiple of `align` from the start of the file. */
export function createBytes(b: Builder, data: Uint8Array, align = 1): number {
  // prep() pads so the data, once written, ends up aligned; createByteVector then adds no padding.
  if (align > 1) b.prep(align, data.length);
  return b.createByteVector(data);
}

/** A vector of scalars, each checked against the element type. */
export function createScalarVector(
  b: Builder,
  values: readonly unknown[],
  type: ScalarType,
  param: string,
  align = 1,
): number {
  const size = SCALAR_SIZE[type];
  for (let i = 0; i < values.length; i++) {
    if (!fitsScalar(values[i], type)) throw expected(describeScalarType(type), `${param}[${i}]`, values[i]);
  }
  b.startVector(size, values.length, Math.max(size, align));
  for (let i = values.length - 1; i >= 0; i--) addScalar(b, type, values[i]);
  return b.endVector();
}

export function createOffsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

function isRecord(value: unknown): value is Decoded {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Writes a table from its decoded form; returns its offset. */
export function encodeTable(b: Builder, value: unknown, def: TableDef, param: string): number {
  if (!isRecord(value)) throw expected(`a ${def.name} object`, param, value);
  // Children first: a FlatBuffers builder cannot nest objects.
  const offsets = new Map<FieldDef, number>();
  const tags = new Map<FieldDef, number>();
  for (const f of def.fields) {
    if (f.deprecated) continue;
    const v = value[f.key];
    const p = `${param}.${f.key}`;
    if (f.kind === 'scalar' && !f.vector) {
      checkScalar(v, f.type!, p);
      continue;
    }
    if (f.kind === 'string' && !f.vector) {
      if (typeof v !== 'string') throw expected('a string', p, v);
      if (v !== '') offsets.set(f, b.createString(v));
      continue;
    }
    if (v === null || v === undefined) continue;
    switch (f.kind) {
      case 'scalar':
        if (f.type === 'uint8' && f.enum === undefined) {
          if (!(v instanceof Uint8Array)) throw expected('a Uint8Array or null', p, v);
          offsets.set(f, createBytes(b, v, f.forceAlign));
        } else {
          if (!Array.isArray(v)) throw expected('an array or null', p, v);
          offsets.set(f, createScalarVector(b, v, f.type!, p, f.forceAlign));
        }
        break;
      case 'string': {
        if (!Array.isArray(v)) throw expected('an array of strings or null', p, v);
        const strings = v.map((s, i) => {
          if (typeof s !== 'string') throw expected('a string', `${p}[${i}]`, s);
          return b.createString(s);
        });
        offsets.set(f, createOffsetVector(b, strings));
        break;
      }
      case 'table': {
        const sub = tableDef(f.ref!);
        if (!f.vector) {
          offsets.set(f, encodeTable(b, v, sub, p));
        } else {
          if (!Array.isArray(v)) throw expected('an array or null', p, v);
          offsets.set(f, createOffsetVector(b, v.map((e, i) => encodeTable(b, e, sub, `${p}[${i}]`))));
        }
        break;
      }
      case 'union': {
        const encoded = encodeUnion(b, v, f.ref!, p);
        offsets.set(f, encoded.offset);
        tags.set(f, encoded.tag);
        break;
      }
      case 'struct':
        throw new Error(`structs are not supported (${p})`);
    }
  }
  b.startObject(def.numSlots);
  for (const f of def.fields) {
    if (f.deprecated) continue;
    if (f.kind === 'scalar' && !f.vector) addScalarField(b, f, value[f.key]);
  }
  for (const [f, offset] of offsets) b.addFieldOffset(f.id, offset, 0);
  for (const [f, tag] of tags) b.addFieldInt8(f.id - 1, tag, 0);
  return b.endObject();
}

/** Writes a union member (tagged with `kind`); returns its tag and table offset. */
export function encodeUnion(b: Builder, value: unknown, unionName: string, param: string): { tag: number; offset: number } {
  const kind = isRecord(value) ? value['kind'] : undefined;
  const tag = typeof kind === 'string' ? unionMaps(unionName).byName.get(kind) : undefined;
  if (tag === undefined) throw expected(`a ${unionName} member (an object with a known kind)`, param, value);
  return { tag, offset: encodeTable(b, value, tableDef(kind as string), param) };
}
