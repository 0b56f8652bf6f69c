// WGSL cannot index an array of storage bindings, so the AttnRes kernels read source i through a
// generated switch, or, when the sources are stacked at a fixed stride in one binding, by index.

export function sourceReader(names: string[]): string {
  const cases = names.map((name, i) => `    case ${i}u: { return ${name}[at]; }`).join("\n");
  return `fn source_at(i: u32, at: u32) -> f32 {
  switch i {
${cases}
    default: { return 0.0; }
  }
}`;
}

/** source i of a stack (one binding, sources STRIDE elements apart), then `extra` after them */
export function stackedReader(stack: string, extra?: string): string {
  const last = extra
    ? `
  if (i * STRIDE >= arrayLength(&${stack})) { return ${extra}[at]; }`
    : "";
  return `fn source_at(i: u32, at: u32) -> f32 {${last}
  return ${stack}[i * STRIDE + at];
}`;
}
