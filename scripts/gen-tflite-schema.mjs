#!/usr/bin/env node
// Generates lib/tflite/schema.ts from the TFLite FlatBuffers schema (schema.fbs).
//
//   node scripts/gen-tflite-schema.mjs [SCHEMA.fbs] [--out FILE | --stdout]
//
// Defaults: ../shared/schema/schema.fbs (relative to the project root) and lib/tflite/schema.ts.
// The output holds what the reader and writer need and nothing else: enums, union member tags,
// and every table's fields with their vtable slot ids, types and default values, plus TypeScript
// interfaces for the tables read generically (union members and the leaf tables listed below).
//
// The parser understands the subset of the FlatBuffers IDL the TFLite schema uses (namespace,
// file_identifier, file_extension, attribute, enum, union, table, struct, root_type; comments;
// field attributes such as `(id: N)`, `(deprecated)`, `(force_align: N)`), and fails loudly on
// anything else so a schema change cannot be silently misread.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Tables the reader decodes with the generic codec besides union members; their interfaces are
// generated (the hand-modelled tables, Model, Tensor, Operator..., live in lib/ir/graph.ts).
const GENERIC_TABLES = ['VariantSubType', 'SparsityParameters'];

const SCALARS = new Map([
  ['bool', 'bool'],
  ['byte', 'int8'], ['int8', 'int8'],
  ['ubyte', 'uint8'], ['uint8', 'uint8'],
  ['short', 'int16'], ['int16', 'int16'],
  ['ushort', 'uint16'], ['uint16', 'uint16'],
  ['int', 'int32'], ['int32', 'int32'],
  ['uint', 'uint32'], ['uint32', 'uint32'],
  ['long', 'int64'], ['int64', 'int64'],
  ['ulong', 'uint64'], ['uint64', 'uint64'],
  ['float', 'float32'], ['float32', 'float32'],
  ['double', 'float64'], ['float64', 'float64'],
]);
const INTEGER_RANGES = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n], uint8: [0n, 2n ** 8n - 1n],
  int16: [-(2n ** 15n), 2n ** 15n - 1n], uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n], uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

// ---------------------------------------------------------------------------------------------
// Tokenizer

function tokenize(text) {
  const tokens = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`line ${line}: unterminated comment`);
      for (let k = i; k < end; k++) if (text[k] === '\n') line++;
      i = end + 2;
      continue;
    }
    if (c === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) throw new Error(`line ${line}: unterminated string`);
      tokens.push({ kind: 'string', value: text.slice(i + 1, end), line });
      i = end + 1;
      continue;
    }
    const word = /^(?:[A-Za-z_][A-Za-z0-9_.]*|[-+]?(?:0x[0-9A-Fa-f]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?))/.exec(
      text.slice(i, i + 200),
    );
    if (word) {
      const value = word[0];
      tokens.push({ kind: /^[-+0-9]/.test(value) ? 'number' : 'ident', value, line });
      i += value.length;
      continue;
    }
    if ('{}()[]:;=,'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, line });
      i++;
      continue;
    }
    throw new Error(`line ${line}: unexpected character '${c}'`);
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser

function parse(text) {
  const tokens = tokenize(text);
  let pos = 0;
  const schema = {
    namespace: '', fileIdentifier: '', fileExtension: '', rootType: '',
    enums: [], unions: [], tables: [], structs: [],
  };

  const peek = () => tokens[pos];
  const fail = (message) => {
    const t = tokens[Math.min(pos, tokens.length - 1)];
    throw new Error(`schema line ${t ? t.line : '?'}: ${message}`);
  };
  const next = () => {
    if (pos >= tokens.length) fail('unexpected end of schema');
    return tokens[pos++];
  };
  const accept = (value) => {
    const t = peek();
    if (t && t.kind !== 'string' && t.value === value) { pos++; return true; }
    return false;
  };
  const expect = (value) => {
    const t = next();
    if (t.kind === 'string' || t.value !== value) fail(`expected '${value}' but found '${t.value}'`);
  };
  const ident = () => {
    const t = next();
    if (t.kind !== 'ident') fail(`expected a name but found '${t.value}'`);
    return t.value;
  };
  const attributes = () => {
    const attrs = {};
    if (!accept('(')) return attrs;
    while (!accept(')')) {
      const name = ident();
      let value = true;
      if (accept(':')) value = next().value;
      attrs[name] = value;
      if (!accept(',')) { expect(')'); break; }
    }
    return attrs;
  };
  const checkAttributes = (attrs, allowed, where) => {
    for (const name of Object.keys(attrs)) {
      if (!allowed.includes(name)) fail(`${where}: unsupported attribute '${name}'`);
    }
  };

  while (pos < tokens.length) {
    const keyword = ident();
    switch (keyword) {
      case 'namespace': schema.namespace = ident(); expect(';'); break;
      case 'include': fail('include is not supported'); break;
      case 'attribute': next(); expect(';'); break;
      case 'file_identifier': schema.fileIdentifier = next().value; expect(';'); break;
      case 'file_extension': schema.fileExtension = next().value; expect(';'); break;
      case 'root_type': schema.rootType = ident(); expect(';'); break;
      case 'enum': {
        const name = ident();
        expect(':');
        const underlying = SCALARS.get(ident());
        if (!underlying || underlying === 'bool' || underlying.startsWith('float')) {
          fail(`enum ${name}: underlying type must be an integer`);
        }
        checkAttributes(attributes(), [], `enum ${name}`);
        expect('{');
        const values = [];
        let nextValue = 0n;
        while (!accept('}')) {
          const valueName = ident();
          if (accept('=')) nextValue = BigInt(next().value);
          const attrs = attributes();
          checkAttributes(attrs, ['deprecated'], `enum ${name}.${valueName}`);
          const [lo, hi] = INTEGER_RANGES[underlying];
          if (nextValue < lo || nextValue > hi) fail(`enum ${name}.${valueName}: value out of range`);
          values.push({ name: valueName, value: nextValue, deprecated: attrs.deprecated === true });
          nextValue++;
          if (!accept(',')) { expect('}'); break; }
        }
        schema.enums.push({ name, underlying, values });
        break;
      }
      case 'union': {
        const name = ident();
        checkAttributes(attributes(), [], `union ${name}`);
        expect('{');
        const members = [];
        let nextTag = 1;
        while (!accept('}')) {
          const table = ident();
          if (accept(':')) fail(`union ${name}: aliased members are not supported`);
          if (accept('=')) nextTag = Number(next().value);
          const attrs = attributes();
          checkAttributes(attrs, ['deprecated'], `union ${name}.${table}`);
          if (nextTag < 1 || nextTag > 255) fail(`union ${name}.${table}: tag out of range`);
          members.push({ table, tag: nextTag, deprecated: attrs.deprecated === true });
          nextTag++;
          if (!accept(',')) { expect('}'); break; }
        }
        schema.unions.push({ name, members });
        break;
      }
      case 'table':
      case 'struct': {
        const name = ident();
        const attrs = attributes();
        checkAttributes(attrs, ['deprecated', 'force_align'], `${keyword} ${name}`);
        expect('{');
        const fields = [];
        while (!accept('}')) {
          const fieldName = ident();
          expect(':');
          let type;
          if (accept('[')) {
            type = { vector: true, name: ident() };
            if (accept(':')) fail(`${name}.${fieldName}: fixed-size arrays are not supported`);
            expect(']');
          } else {
            type = { vector: false, name: ident() };
          }
          let defaultValue;
          if (accept('=')) defaultValue = next().value;
          const fieldAttrs = attributes();
          checkAttributes(fieldAttrs, ['id', 'deprecated', 'force_align', 'required', 'key'], `${name}.${fieldName}`);
          expect(';');
          fields.push({ name: fieldName, type, defaultValue, attrs: fieldAttrs });
        }
        (keyword === 'table' ? schema.tables : schema.structs).push({
          name, fields, deprecated: attrs.deprecated === true,
        });
        break;
      }
      default:
        fail(`unsupported declaration '${keyword}'`);
    }
  }
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Resolution: slot ids, kinds, defaults

function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function resolveSchema(schema) {
  const enums = new Map(schema.enums.map((e) => [e.name, e]));
  const unions = new Map(schema.unions.map((u) => [u.name, u]));
  const tables = new Map(schema.tables.map((t) => [t.name, t]));
  const structs = new Map(schema.structs.map((s) => [s.name, s]));
  if (schema.structs.length > 0) {
    throw new Error('structs are not supported by the reader/writer; extend the generator first');
  }

  const describeType = (where, name) => {
    const scalar = SCALARS.get(name);
    if (scalar) return { kind: 'scalar', type: scalar };
    if (name === 'string') return { kind: 'string' };
    const e = enums.get(name);
    if (e) return { kind: 'scalar', type: e.underlying, enum: name };
    if (unions.has(name)) return { kind: 'union', ref: name };
    if (tables.has(name)) return { kind: 'table', ref: name };
    if (structs.has(name)) return { kind: 'struct', ref: name };
    throw new Error(`${where}: unknown type '${name}'`);
  };

  const parseDefault = (where, d, raw) => {
    if (d.kind !== 'scalar') {
      if (raw !== undefined) throw new Error(`${where}: only scalars may have a default`);
      return undefined;
    }
    if (d.type === 'bool') {
      if (raw === undefined || raw === 'false' || raw === '0') return false;
      if (raw === 'true' || raw === '1') return true;
      throw new Error(`${where}: bad bool default '${raw}'`);
    }
    if (d.type.startsWith('float')) {
      if (raw === undefined) return 0;
      const value = Number(raw);
      if (Number.isNaN(value) && raw !== 'nan') throw new Error(`${where}: bad float default '${raw}'`);
      return value;
    }
    let value = 0n;
    if (raw !== undefined) {
      if (d.enum && /^[A-Za-z_]/.test(raw)) {
        const member = enums.get(d.enum).values.find((v) => v.name === raw);
        if (!member) throw new Error(`${where}: '${raw}' is not a value of ${d.enum}`);
        value = member.value;
      } else {
        value = BigInt(raw);
      }
    }
    const [lo, hi] = INTEGER_RANGES[d.type];
    if (value < lo || value > hi) throw new Error(`${where}: default ${value} out of range`);
    return d.type.endsWith('64') ? value : Number(value);
  };

  const resolvedTables = [];
  for (const table of schema.tables) {
    const explicit = table.fields.filter((f) => f.attrs.id !== undefined).length;
    if (explicit !== 0 && explicit !== table.fields.length) {
      throw new Error(`table ${table.name}: either every field or no field has an id`);
    }
    let nextId = 0;
    const fields = [];
    for (const f of table.fields) {
      const where = `${table.name}.${f.name}`;
      const d = describeType(where, f.type.name);
      if (f.type.vector && d.kind === 'union') throw new Error(`${where}: vectors of unions are not supported`);
      let id;
      if (explicit) {
        id = Number(f.attrs.id);
        // A union occupies two slots: its `_type` tag at id - 1 and the value at id.
        if (d.kind === 'union' && !f.type.vector && id < 1) throw new Error(`${where}: union id must be >= 1`);
      } else {
        id = d.kind === 'union' ? nextId + 1 : nextId;
        nextId = id + 1;
      }
      const field = {
        name: f.name,
        key: camel(f.name),
        id,
        kind: d.kind,
        vector: f.type.vector,
      };
      if (d.type) field.type = d.type;
      if (d.enum) field.enum = d.enum;
      if (d.ref) field.ref = d.ref;
      if (!f.type.vector) {
        const def = parseDefault(where, d, f.defaultValue);
        if (def !== undefined) field.default = def;
      } else if (f.defaultValue !== undefined) {
        throw new Error(`${where}: vectors cannot have defaults`);
      }
      if (f.attrs.deprecated === true) field.deprecated = true;
      if (f.attrs.force_align !== undefined) field.forceAlign = Number(f.attrs.force_align);
      fields.push(field);
    }
    const used = new Set();
    for (const f of fields) {
      for (const slot of f.kind === 'union' ? [f.id - 1, f.id] : [f.id]) {
        if (used.has(slot)) throw new Error(`table ${table.name}: slot ${slot} used twice`);
        used.add(slot);
      }
    }
    const numSlots = fields.reduce((m, f) => Math.max(m, f.id + 1), 0);
    resolvedTables.push({ name: table.name, deprecated: table.deprecated, fields, numSlots });
  }

  for (const u of schema.unions) {
    for (const m of u.members) {
      if (!tables.has(m.table)) throw new Error(`union ${u.name}: member '${m.table}' is not a table`);
    }
  }
  return { ...schema, tables: resolvedTables };
}

// ---------------------------------------------------------------------------------------------
// Emitter

function literal(value) {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  return JSON.stringify(value);
}

function tsScalarType(f) {
  if (f.enum) return f.enum;
  if (f.type === 'bool') return 'boolean';
  if (f.type === 'int64' || f.type === 'uint64') return 'bigint';
  return 'number';
}

function tsFieldType(f) {
  if (f.kind === 'union') return `${f.ref} | null`;
  if (f.kind === 'string') return f.vector ? 'readonly string[] | null' : 'string';
  if (f.kind === 'table') return f.vector ? `readonly ${f.ref}[] | null` : `${f.ref} | null`;
  if (f.vector) return f.type === 'uint8' && !f.enum ? 'Uint8Array | null' : `readonly ${tsScalarType(f)}[] | null`;
  return tsScalarType(f);
}

function emit(schema, source) {
  const out = [];
  const hash = createHash('sha256').update(source.text).digest('hex');
  out.push(
    '// GENERATED FILE: do not edit. Regenerate with `node scripts/gen-tflite-schema.mjs`.',
    `// Source: ${source.name} (sha256 ${hash}), the TFLite/LiteRT FlatBuffers schema.`,
    '// Generated by scripts/gen-tflite-schema.mjs: enums, union member tags, and each table\'s',
    '// fields with vtable slot ids (after `(id: N)` attributes and deprecated fields), types and',
    '// defaults, plus interfaces for the tables decoded generically (lib/tflite/table-codec.ts).',
    '/* eslint-disable */',
    '',
    `export const FILE_IDENTIFIER = ${JSON.stringify(schema.fileIdentifier)};`,
    `export const FILE_EXTENSION = ${JSON.stringify(schema.fileExtension)};`,
    `export const ROOT_TYPE = ${JSON.stringify(schema.rootType)};`,
    '',
    '// ----- Enums ---------------------------------------------------------------------------',
    '',
  );

  for (const e of schema.enums) {
    const wide = e.underlying.endsWith('64');
    out.push(`/** enum ${e.name} : ${e.underlying} */`);
    out.push(`export const ${e.name} = {`);
    for (const v of e.values) {
      out.push(`  ${v.name}: ${wide ? `${v.value}n` : String(v.value)},${v.deprecated ? ' // deprecated' : ''}`);
    }
    out.push('} as const;');
    out.push(`export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`);
    out.push('');
  }

  out.push('// ----- Unions: tag 0 is NONE; a member keeps its tag even when deprecated -------------', '');
  for (const u of schema.unions) {
    out.push(`export const ${u.name}Type = {`);
    out.push('  NONE: 0,');
    for (const m of u.members) out.push(`  ${m.table}: ${m.tag},${m.deprecated ? ' // deprecated' : ''}`);
    out.push('} as const;');
    out.push(`export type ${u.name}Type = (typeof ${u.name}Type)[keyof typeof ${u.name}Type];`);
    out.push('');
  }

  out.push(
    '// ----- Table layout ----------------------------------------------------------------------',
    '',
    "export type ScalarType = 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32'",
    "  | 'int64' | 'uint64' | 'float32' | 'float64';",
    '',
    'export interface FieldDef {',
    '  /** The schema name (snake_case), as flatc prints it in JSON. */',
    '  readonly name: string;',
    '  /** The IR property name (camelCase). */',
    '  readonly key: string;',
    "  /** Vtable slot; a union's `_type` tag is in slot id - 1. */",
    '  readonly id: number;',
    "  readonly kind: 'scalar' | 'string' | 'table' | 'union' | 'struct';",
    '  readonly vector: boolean;',
    '  /** For scalars (and elements of scalar vectors): the stored type; enums store their underlying type. */',
    '  readonly type?: ScalarType;',
    '  readonly enum?: string;',
    '  /** The table, union or struct type. */',
    '  readonly ref?: string;',
    '  /** Scalars only: the value an absent field reads as. */',
    '  readonly default?: number | boolean | bigint;',
    '  readonly deprecated?: true;',
    '  readonly forceAlign?: number;',
    '}',
    '',
    'export interface TableDef {',
    '  readonly name: string;',
    '  /** One past the highest slot id: the vtable size a writer starts the object with. */',
    '  readonly numSlots: number;',
    '  readonly fields: readonly FieldDef[];',
    '  readonly deprecated?: true;',
    '}',
    '',
    'export interface UnionDef {',
    '  readonly name: string;',
    '  readonly members: readonly { readonly tag: number; readonly table: string; readonly deprecated?: true }[];',
    '}',
    '',
  );

  out.push('export const UNIONS: Readonly<Record<string, UnionDef>> = {');
  for (const u of schema.unions) {
    out.push(`  ${u.name}: {`);
    out.push(`    name: ${JSON.stringify(u.name)},`);
    out.push('    members: [');
    for (const m of u.members) {
      out.push(`      { tag: ${m.tag}, table: ${JSON.stringify(m.table)}${m.deprecated ? ', deprecated: true' : ''} },`);
    }
    out.push('    ],');
    out.push('  },');
  }
  out.push('};', '');

  out.push('export const TABLES: Readonly<Record<string, TableDef>> = {');
  for (const t of schema.tables) {
    out.push(`  ${t.name}: {`);
    out.push(`    name: ${JSON.stringify(t.name)},`);
    out.push(`    numSlots: ${t.numSlots},`);
    if (t.deprecated) out.push('    deprecated: true,');
    out.push('    fields: [');
    for (const f of t.fields) {
      const parts = [
        `name: ${JSON.stringify(f.name)}`,
        `key: ${JSON.stringify(f.key)}`,
        `id: ${f.id}`,
        `kind: '${f.kind}'`,
        `vector: ${f.vector}`,
      ];
      if (f.type) parts.push(`type: '${f.type}'`);
      if (f.enum) parts.push(`enum: '${f.enum}'`);
      if (f.ref) parts.push(`ref: '${f.ref}'`);
      if (f.default !== undefined) parts.push(`default: ${literal(f.default)}`);
      if (f.deprecated) parts.push('deprecated: true');
      if (f.forceAlign !== undefined) parts.push(`forceAlign: ${f.forceAlign}`);
      out.push(`      { ${parts.join(', ')} },`);
    }
    out.push('    ],');
    out.push('  },');
  }
  out.push('};', '');

  // Slot ids as constants for the hand-written reader and writer (Model, Tensor, Operator...).
  out.push(
    '// ----- Slot ids per table: `Slot.Tensor.buffer` is the vtable slot of Tensor.buffer --------',
    '',
    'export const Slot = {',
  );
  for (const t of schema.tables) {
    const entries = t.fields.map((f) =>
      f.kind === 'union' ? `${f.name}_type: ${f.id - 1}, ${f.name}: ${f.id}` : `${f.name}: ${f.id}`,
    );
    out.push(`  ${t.name}: { ${entries.join(', ')} },`);
  }
  out.push('} as const;', '');

  // Interfaces for generically decoded tables: union members and GENERIC_TABLES, closed over the
  // tables they reference.
  const tablesByName = new Map(schema.tables.map((t) => [t.name, t]));
  const unionsByName = new Map(schema.unions.map((u) => [u.name, u]));
  const wanted = [];
  const seen = new Set();
  const want = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const t = tablesByName.get(name);
    wanted.push(t);
    for (const f of t.fields) {
      if (f.deprecated) continue;
      if (f.kind === 'table') want(f.ref);
      if (f.kind === 'union') for (const m of unionsByName.get(f.ref).members) want(m.table);
    }
  };
  for (const u of schema.unions) for (const m of u.members) want(m.table);
  for (const name of GENERIC_TABLES) if (tablesByName.has(name)) want(name);
  const members = new Set(schema.unions.flatMap((u) => u.members.map((m) => m.table)));

  out.push(
    '// ----- Generically decoded tables -------------------------------------------------------',
    '// Scalars read as their default when absent; int64/uint64 are bigint; strings read as \'\' when',
    '// absent; vectors and tables read as null when absent; [ubyte] vectors are Uint8Array views.',
    '// A union member carries its table name as `kind`. Deprecated fields are not modelled.',
    '',
  );
  for (const t of wanted) {
    out.push(`export interface ${t.name} {`);
    if (members.has(t.name)) {
      if (t.fields.some((f) => f.key === 'kind')) throw new Error(`table ${t.name}: a field named 'kind' collides with the union tag`);
      out.push(`  readonly kind: '${t.name}';`);
    }
    for (const f of t.fields) {
      if (f.deprecated) continue;
      out.push(`  readonly ${f.key}: ${tsFieldType(f)};`);
    }
    out.push('}', '');
  }
  for (const u of schema.unions) {
    out.push(`export type ${u.name} =`);
    u.members.forEach((m, i) => out.push(`  | ${m.table}${i === u.members.length - 1 ? ';' : ''}`));
    out.push('');
  }
  out.push(
    `/** Tables decoded by lib/tflite/table-codec.ts (union members and leaf tables). */`,
    'export const GENERIC_TABLE_NAMES: readonly string[] = [',
    ...wanted.map((t) => `  ${JSON.stringify(t.name)},`),
    '];',
    '',
  );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

function main(argv) {
  let input = resolve(root, '..', 'shared', 'schema', 'schema.fbs');
  let output = resolve(root, 'lib', 'tflite', 'schema.ts');
  let toStdout = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') output = resolve(argv[++i]);
    else if (a === '--stdout') toStdout = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/gen-tflite-schema.mjs [SCHEMA.fbs] [--out FILE | --stdout]');
      return;
    } else input = resolve(a);
  }
  const text = readFileSync(input, 'utf8');
  const schema = resolveSchema(parse(text));
  const ts = emit(schema, { name: 'schema.fbs', text });
  if (toStdout) process.stdout.write(ts);
  else {
    writeFileSync(output, ts);
    console.error(`gen-tflite-schema: wrote ${relative(process.cwd(), output)} (${schema.tables.length} tables, ${schema.enums.length} enums, ${schema.unions.length} unions)`);
  }
}

try {
  main(process.argv.slice(2));
} catch (error) {
  console.error(`gen-tflite-schema: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
