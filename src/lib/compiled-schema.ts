/**
 * A valibot schema turned once into plain functions that say whether a value is valid and build
 * the output valibot would give it. valibot checks a message through a chain of `~run` calls that
 * allocate a dataset per field and walk each pipe's actions; on the path of every message that
 * is most of validation's cost. A compiled check allocates only the output.
 *
 * Only what has one obvious meaning is compiled: strings, numbers, booleans, literals, picklists,
 * `unknown`, objects, arrays, `optional` and `nullable` without defaults, variants told apart by
 * a literal or picklist key, and pipes of the validations below. A schema with anything else in it (a
 * transformation, a default, a fallback, a union, a record…) is not compiled at all and stays
 * valibot's. A value the compiled check refuses goes to valibot too, so a refusal's reason is
 * always valibot's own; tests/unit/compiled-schema.test.ts compares verdicts and outputs.
 */
import type * as v from "valibot";

/** What a compiled check returns for a value it refuses. */
export const INVALID: unique symbol = Symbol("invalid");

/** The output valibot would give a valid value, or INVALID. */
export type Compiled = (input: unknown) => unknown;

/** The parts of a valibot schema or action this module reads. */
interface Node {
  kind: string;
  type: string;
  pipe?: readonly Node[];
  requirement?: unknown;
  literal?: unknown;
  options?: readonly unknown[];
  entries?: Record<string, Node>;
  item?: Node;
  wrapped?: Node;
  key?: string;
  default?: unknown;
  fallback?: unknown;
}

class NotCompiled extends Error {}

const compiledBySchema = new WeakMap<object, Compiled | null>();

/** The schema's compiled check, made on first use; null when the schema has something not compiled. */
export function compiled(schema: v.GenericSchema): Compiled | null {
  let found = compiledBySchema.get(schema);
  if (found === undefined) {
    try {
      found = compile(schema as unknown as Node);
    } catch (err) {
      if (!(err instanceof NotCompiled)) throw err;
      found = null;
    }
    compiledBySchema.set(schema, found);
  }
  return found;
}

function compile(node: Node): Compiled {
  if ("default" in node && node.default !== undefined) throw new NotCompiled();
  if ("fallback" in node && node.fallback !== undefined) throw new NotCompiled();
  if (node.pipe) return compilePipe(node.pipe);
  switch (node.type) {
    case "string":
      return (x) => (typeof x === "string" ? x : INVALID);
    case "number":
      return (x) => (typeof x === "number" && !Number.isNaN(x) ? x : INVALID);
    case "boolean":
      return (x) => (typeof x === "boolean" ? x : INVALID);
    case "unknown":
      return (x) => x;
    case "literal": {
      const literal = node.literal;
      // valibot compares with SameValueZero: NaN is NaN (and 0 is -0, as ===)
      if (typeof literal === "number" && Number.isNaN(literal)) return (x) => (typeof x === "number" && Number.isNaN(x) ? x : INVALID);
      return (x) => (x === literal ? x : INVALID);
    }
    case "picklist": {
      const options = node.options!;
      return (x) => (options.includes(x) ? x : INVALID);
    }
    case "optional": {
      const wrapped = compile(node.wrapped!);
      return (x) => (x === undefined ? x : wrapped(x));
    }
    case "nullable": {
      const wrapped = compile(node.wrapped!);
      return (x) => (x === null ? x : wrapped(x));
    }
    case "array": {
      const item = compile(node.item!);
      return (x) => {
        if (!Array.isArray(x)) return INVALID;
        const out: unknown[] = [];
        for (const element of x) {
          const checked = item(element);
          if (checked === INVALID) return INVALID;
          out.push(checked);
        }
        return out;
      };
    }
    case "object":
      return compileObject(node.entries!);
    case "variant":
      return compileVariant(node);
    default:
      throw new NotCompiled();
  }
}

/**
 * As valibot's `object`: any object (arrays too), each entry read when its key is in the input
 * (inherited keys included), the output holding the entries' keys in their order and no other.
 */
function compileObject(entries: Record<string, Node>): Compiled {
  const fields: { key: string; check: Compiled; required: boolean }[] = [];
  for (const key in entries) {
    const entry = entries[key]!;
    if (entry.type === "exact_optional" || entry.type === "nullish") throw new NotCompiled();
    fields.push({ key, check: compile(entry), required: entry.type !== "optional" });
  }
  return (x) => {
    if (!x || typeof x !== "object") return INVALID;
    const input = x as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const { key, check, required } of fields) {
      if (key in input) {
        const checked = check(input[key]);
        if (checked === INVALID) return INVALID;
        out[key] = checked;
      } else if (required) return INVALID;
    }
    return out;
  };
}

/** A variant whose options are objects told apart by a literal or a picklist of its key: the option the input names, alone. */
function compileVariant(node: Node): Compiled {
  const key = node.key!;
  const options = variantOptions(node as unknown as VariantLike);
  if (!options) throw new NotCompiled();
  const byLiteral = new Map<unknown, Compiled>();
  for (const [literal, option] of options) {
    const check = compiled(option);
    if (!check) throw new NotCompiled();
    byLiteral.set(literal, check);
  }
  return (x) => {
    if (!x || typeof x !== "object" || !(key in x)) return INVALID;
    const option = byLiteral.get((x as Record<string, unknown>)[key]);
    return option ? option(x) : INVALID;
  };
}

export interface VariantLike {
  type: "variant";
  key: string;
  options: readonly { type: string; entries?: Record<string, { type: string; literal?: unknown; options?: readonly unknown[] }> }[];
}

/** A variant's options by the literals (or picklist) of its key; null when they are not all objects told apart that way. */
export function variantOptions(variant: VariantLike): Map<unknown, v.GenericSchema> | null {
  const options = new Map<unknown, v.GenericSchema>();
  for (const option of variant.options) {
    const discriminator = option.entries?.[variant.key];
    const literals = discriminator?.type === "literal" ? [discriminator.literal] : discriminator?.type === "picklist" ? discriminator.options : undefined;
    if (option.type !== "object" || !literals) return null;
    for (const literal of literals) {
      if (options.has(literal)) return null;
      options.set(literal, option as unknown as v.GenericSchema);
    }
  }
  return options;
}

/** A pipe: its schema, then each validation in turn on the schema's output (metadata ignored). */
function compilePipe(pipe: readonly Node[]): Compiled {
  const [first, ...rest] = pipe;
  if (first?.kind !== "schema") throw new NotCompiled();
  const schema = compile(first);
  const checks = rest.filter((item) => item.kind !== "metadata").map(validation);
  return (x) => {
    const value = schema(x);
    if (value === INVALID) return INVALID;
    for (const check of checks) if (!check(value)) return INVALID;
    return value;
  };
}

/** A validation action as a predicate, with valibot's meaning; anything else (a transformation) is not compiled. */
function validation(action: Node): (value: unknown) => boolean {
  if (action.kind !== "validation") throw new NotCompiled();
  const requirement = action.requirement;
  switch (action.type) {
    case "regex":
    case "iso_timestamp": {
      const pattern = requirement as RegExp;
      // a global or sticky pattern remembers where it stopped: tested twice, it may answer differently
      if (pattern.global || pattern.sticky) throw new NotCompiled();
      return (value) => pattern.test(value as string);
    }
    case "min_length":
      return (value) => !((value as { length: number }).length < (requirement as number));
    case "max_length":
      return (value) => !((value as { length: number }).length > (requirement as number));
    case "min_value":
      return (value) => (value as number) >= (requirement as number);
    case "max_value":
      return (value) => (value as number) <= (requirement as number);
    case "finite":
    case "integer":
    case "check":
      return requirement as (value: unknown) => boolean;
    default:
      throw new NotCompiled();
  }
}
