// WGSL that fills one operand's workgroup tile from global memory: one float per load, or four
// when the operand's contiguous dimension is a multiple of 4 (the tile origin then is too, so a
// 4-wide load lies wholly inside the matrix or wholly outside it).

/** one operand's tile as the kernel lays it out: [rows][cols] in workgroup memory */
export interface TileShape {
  tile: string;
  /** WGSL constants naming the tile's extent */
  rows: string;
  cols: string;
  /** the tile's first row and column in the matrix (WGSL expressions) */
  rowOrigin: string;
  colOrigin: string;
  /** extents as numbers, for the 4-wide loop bounds */
  rowCount: number;
  colCount: number;
  /** the loader: load_x(row, col) -> f32, or with `4` appended -> vec4f */
  load: string;
  /** which tile axis is contiguous in the operand's stored layout (the 4-wide axis) */
  contiguous: "rows" | "cols";
}

/**
 * the loop that fills `s.tile` (starting at `base`, a WGSL prefix such as "next + " or "") with
 * the tile at the origin; every invocation takes every THREADS-th element (or group of four)
 */
export function fillTile(s: TileShape, vec4: boolean, base = "", indent = "    "): string {
  const lines = vec4 ? vectorFill(s, base) : scalarFill(s, base);
  return lines.map((line) => indent + line).join("\n");
}

function scalarFill(s: TileShape, base: string): string[] {
  return [
    `for (var e = lane; e < ${s.rows} * ${s.cols}; e = e + THREADS) {`,
    `  ${s.tile}[${base}e] = ${s.load}(${s.rowOrigin} + e / ${s.cols}, ${s.colOrigin} + e % ${s.cols});`,
    `}`,
  ];
}

function vectorFill(s: TileShape, base: string): string[] {
  // e counts groups of four along the contiguous axis
  const alongCols = s.contiguous === "cols";
  const groups = (alongCols ? s.colCount : s.rowCount) / 4;
  const [outer, inner] = alongCols ? ["r", "c"] : ["c", "r"];
  const offset = (n: number) =>
    n === 0 ? "" : alongCols ? ` + ${n}u` : ` + ${n === 1 ? "" : `${n}u * `}${s.cols}`;
  return [
    `for (var e = lane; e < ${(s.rowCount * s.colCount) / 4}u; e = e + THREADS) {`,
    `  let ${outer} = e / ${groups}u;`,
    `  let ${inner} = e % ${groups}u * 4u;`,
    `  let v = ${s.load}4(${s.rowOrigin} + r, ${s.colOrigin} + c);`,
    `  let at = ${base}r * ${s.cols} + c;`,
    ...["x", "y", "z", "w"].map((component, n) => `  ${s.tile}[at${offset(n)}] = v.${component};`),
    `}`,
  ];
}

/**
 * `fn name(row, col)`: the element (or four, along the contiguous axis) at a stored index, zero
 * outside; times `scale` when given (rmsnorm_matmul's gain, prologue.ts)
 */
export function loader(
  name: string,
  [row, col]: [string, string],
  [rowLimit, colLimit]: [string, string],
  binding: string,
  index: string,
  vec4: boolean,
  scale?: { scalar: string; vector: string },
): string {
  return vec4
    ? `fn ${name}4(${row}: u32, ${col}: u32) -> vec4f {
  if (${row} >= ${rowLimit} || ${col} >= ${colLimit}) { return vec4f(0.0); }
  return ${binding}[(${index}) / 4u]${scale ? ` * ${scale.vector}` : ""};
}`
    : `fn ${name}(${row}: u32, ${col}: u32) -> f32 {
  if (${row} >= ${rowLimit} || ${col} >= ${colLimit}) { return 0.0; }
  return ${binding}[${index}]${scale ? ` * ${scale.scalar}` : ""};
}`;
}
