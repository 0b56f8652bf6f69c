// WGSL cannot index an array of storage bindings, so the AttnRes kernels read source i through a
// generated switch.

export function sourceReader(names: string[]): string {
  const cases = names.map((name, i) => `    case ${i}u: { return ${name}[at]; }`).join("\n");
  return `fn source_at(i: u32, at: u32) -> f32 {
  switch i {
${cases}
    default: { return 0.0; }
  }
}`;
}
