import type { GraphDef } from '../../onnx/graph-builder.js';

/**
 * Removes the Identity nodes GraphBuilder puts in front of graph outputs by
 * renaming the producing node's output: on a device every node is a kernel
 * dispatch (about 150 per Moshi frame). Outputs that are graph inputs,
 * initializers, or a value already exported under another name keep theirs.
 */
export function inlineOutputs(g: GraphDef): GraphDef {
  const outputs = new Set(g.outputs.map((o) => o.name));
  const fixed = new Set([...g.inputs.map((i) => i.name), ...g.initializers.map((i) => i.name)]);
  const rename = new Map<string, string>();
  const drop = new Set<number>();
  g.nodes.forEach((n, i) => {
    if (n.opType !== 'Identity' || n.domain !== '' || !outputs.has(n.outputs[0]!)) return;
    const src = n.inputs[0]!;
    if (fixed.has(src) || rename.has(src)) return;
    rename.set(src, n.outputs[0]!);
    drop.add(i);
  });
  const map = (v: string) => rename.get(v) ?? v;
  const nodes = g.nodes.filter((_, i) => !drop.has(i)).map((n) => ({ ...n, inputs: n.inputs.map(map), outputs: n.outputs.map(map) }));
  return { ...g, nodes };
}
