// Every diagnostic archc can report, keyed by a stable code. Codes never change meaning once
// published: tests, docs and users' scripts match on them. Templates name their parameters in
// braces; diagnostic.ts fills them in.
//   A01xx  reading and parsing text
//   A02xx  names, imports, definitions
//   A03xx  values and types of expressions
//   A04xx  model constraints
//   A05xx  training runs
//   A06xx  ablations
//   A09xx  archc's own bugs

export interface CatalogEntry {
  severity: "error" | "warning";
  template: string;
}

export const CATALOG = {
  A0101: { severity: "error", template: "unexpected character {text}" },
  A0102: { severity: "error", template: 'unterminated string (a string must end with " on the same line)' },
  A0103: { severity: "error", template: "unterminated block comment (missing */)" },
  A0104: { severity: "error", template: "number {text} is too large to represent" },
  A0105: {
    severity: "error",
    template: "brackets nested too deeply (more than {limit} levels); the rest of the file is not parsed",
  },
  A0106: { severity: "error", template: "syntax error: {detail}" },
  A0107: { severity: "error", template: "too many errors; stopping after {count}" },
  A0108: {
    severity: "error",
    template: "the file holds binary data, not text (a NUL byte at this position)",
  },
  A0110: { severity: "warning", template: "the file defines nothing" },
  A0111: {
    severity: "error",
    template: "the file holds more than {limit} tokens; it is not parsed",
  },
  A0109: {
    severity: "error",
    template: 'unknown escape sequence {text} in string (use \\\\, \\", \\n or \\t)',
  },

  A0201: { severity: "error", template: "unknown name '{name}'{hint}" },
  A0202: { severity: "error", template: "unknown block '{name}'{hint}" },
  A0203: { severity: "error", template: "unknown model '{name}'{hint}" },
  A0204: { severity: "error", template: "unknown field '{name}' in {where}{hint}" },
  A0205: { severity: "error", template: "unknown argument '{name}' for {callee}{hint}" },
  A0206: { severity: "error", template: "duplicate definition of {kind} '{name}'" },
  A0207: { severity: "error", template: "duplicate field '{name}'" },
  A0208: { severity: "error", template: "duplicate argument '{name}'" },
  A0209: { severity: "error", template: "import cycle: {cycle}" },
  A0210: { severity: "error", template: "cannot read imported file '{path}': {reason}" },
  A0211: { severity: "error", template: "unknown standard library module '{name}'{hint}" },
  A0212: { severity: "error", template: "inheritance cycle: {cycle}" },
  A0213: { severity: "error", template: "field '{name}' depends on itself: {cycle}" },
  A0214: { severity: "error", template: "{kind} '{owner}' is missing the required field '{name}'" },
  A0215: { severity: "error", template: "missing argument '{name}' for {callee}" },
  A0216: { severity: "error", template: "too many arguments for {callee} (it takes {count})" },
  A0217: { severity: "error", template: "a positional argument cannot follow a named one" },
  A0218: { severity: "error", template: "block '{name}' contains itself: {cycle}" },
  A0219: { severity: "warning", template: "field '{name}' is never used; did you mean '{suggestion}'?" },
  A0220: { severity: "error", template: "duplicate parameter '{name}'" },
  A0221: { severity: "error", template: "unknown {what} '{name}' (expected {expected}){hint}" },
  A0222: {
    severity: "error",
    template:
      "definition chain deeper than {limit}: {what} '{name}' is defined through more than {limit} others",
  },
  A0225: {
    severity: "error",
    template:
      "definitions and brackets nested more than {limit} deep in all (a definition nested in brackets, defined by another, ...)",
  },
  A0223: {
    severity: "error",
    template: "model '{name}' has {count} fields with the ones it inherits; at most {max} are allowed",
  },
  A0224: {
    severity: "error",
    template:
      "the program's models hold more than {max} fields in all (inherited ones counted again); model '{name}' is not checked",
  },

  A0301: { severity: "error", template: "{what} must be {expected}, got {actual}" },
  A0302: { severity: "error", template: "{what} must be a whole number, got {value}" },
  A0303: {
    severity: "error",
    template: "{left} / {right} does not divide exactly, but {what} must be a whole number",
  },
  A0304: { severity: "error", template: "division by zero" },
  A0305: { severity: "error", template: "{what} must be {constraint}, got {value}" },
  A0306: { severity: "error", template: "the result {value} is too large to represent exactly" },
  A0307: { severity: "error", template: "cannot apply '{op}' to {left} and {right}" },

  A0401: { severity: "error", template: "dim ({dim}) must be divisible by heads ({heads})" },
  A0402: { severity: "error", template: "heads ({heads}) must be divisible by kv_heads ({kvHeads})" },
  A0403: { severity: "error", template: "rope needs an even head_dim, but dim / heads = {headDim}" },
  A0404: {
    severity: "error",
    template: "attn(block = {blocks}) needs 1 <= blocks <= the number of layers ({layers})",
  },
  A0405: { severity: "error", template: "the model has {count} layers; at most {max} are allowed" },
  A0406: { severity: "error", template: "'{name}' takes no arguments" },
  A0407: { severity: "error", template: "block '{name}' holds no sublayers" },
  A0408: {
    severity: "error",
    template: "layers must be a stack of blocks such as gpt_layer(...) * depth, got {actual}",
  },
  A0409: {
    severity: "error",
    template: "tokenizer {tokenizer} produces {needed} token ids, but model '{model}' has vocab {vocab}",
  },
  A0410: { severity: "error", template: "'{name}' is a primitive sublayer; stack it inside a block" },
  A0411: {
    severity: "error",
    template: "{what} would hold {count} elements; one tensor may hold at most {max}",
  },
  A0412: {
    severity: "error",
    template:
      "AttnRes over {sublayers} sublayers aggregates {count} sources in all; at most {max} are allowed (use fewer layers or fewer blocks)",
  },
  A0414: {
    severity: "error",
    template: "model '{name}' has up to {count} parameters; at most {max} are allowed",
  },
  A0413: { severity: "error", template: "the layers expand to more than {max} {what}" },
  A0415: {
    severity: "error",
    template: "attn takes either block (a number of blocks) or block_size (layers per block), not both",
  },
  A0416: { severity: "error", template: "attn(heads = {heads}) needs heads dividing dim ({dim})" },
  A0417: { severity: "error", template: "{option} cannot be combined with {other}" },
  A0418: {
    severity: "error",
    template:
      "DenseFormer over {layers} layers averages {count} layer outputs in all; at most {max} are allowed (use a larger dilation or period)",
  },

  A0501: { severity: "error", template: "seq ({seq}) exceeds the context ({context}) of model '{model}'" },
  A0502: { severity: "error", template: "warmup ({warmup}) exceeds steps ({steps})" },
  A0503: { severity: "error", template: "{what} is {count}; at most {max} are allowed" },

  // A0601 is retired, never to be reused: it said "an ablation varies exactly one field", and
  // ablations now vary several.
  A0602: {
    severity: "error",
    template: "ablation '{name}' varies no field: give at least one field a list of values [a, b, ...]",
  },
  A0603: { severity: "warning", template: "value {text} is listed twice" },
  A0604: { severity: "error", template: "an ablation needs at least one value" },
  A0605: {
    severity: "error",
    template:
      "zipped lists must be equally long, but '{first}' has {firstCount} values and '{second}' has {secondCount}",
  },
  A0606: {
    severity: "error",
    template:
      "seeds must be a count (seeds: 3) or a non-empty list of seeds (seeds: [1, 2, 3]), got {actual}",
  },
  A0607: { severity: "error", template: "seed {seed} is listed twice" },
  A0608: { severity: "error", template: "unknown train block '{name}'{hint}" },
  A0609: { severity: "error", template: "baseline {text} is not a variant of ablation '{name}'{hint}" },
  A0610: {
    severity: "warning",
    template: "variants '{first}' and '{second}' of ablation '{name}' build the same model",
  },
  A0611: { severity: "error", template: "the ablation has {count} variants; at most {max} are allowed" },

  A0901: { severity: "error", template: "internal error (a bug in archc, not in your file): {message}" },
} as const satisfies Record<string, CatalogEntry>;

export type DiagnosticCode = keyof typeof CATALOG;

/** the names a template fills in: "unknown name '{name}'{hint}" gives "name" | "hint" */
type Placeholders<T extends string> = T extends `${string}{${infer Name}}${infer Rest}`
  ? Name | Placeholders<Rest>
  : never;

type PlaceholdersOf<C extends DiagnosticCode> = Placeholders<(typeof CATALOG)[C]["template"]>;

/** the parameters diagnostic C needs: every placeholder of its template, and no other */
export type DiagnosticParams<C extends DiagnosticCode> = { [K in PlaceholdersOf<C>]: string | number };

/**
 * What follows the code and span when reporting C: its parameters (required when its template has
 * placeholders, so that a message can never print a raw `{name}`), then optional notes.
 */
export type DiagnosticArgs<C extends DiagnosticCode> = [PlaceholdersOf<C>] extends [never]
  ? [params?: Record<string, never>, notes?: string[]]
  : [params: DiagnosticParams<C>, notes?: string[]];
