/** `model.summary()`: layers, output shapes, parameter counts and what each layer does with the mask. */
import type { Node, SymbolicTensor } from '../engine/symbolic.js';
import { collectSymbolic } from '../engine/symbolic.js';
import { InputLayer } from '../engine/input_layer.js';
import type { Model } from './functional.js';
import { MasqueError } from '../errors.js';

export type MaskRole = 'makes' | 'passes' | 'consumes' | 'drops' | '-';

/** What a graph node does with masks: makes a new one, passes one on, consumes it, or drops it (policy 'warn'/'ignore'). */
export function maskRole(node: Node): MaskRole {
  if (node.dropsMask !== null) return 'drops';
  const ins = collectSymbolic([node.inputs, node.args]);
  const inMasked = ins.some((s) => s.mask !== null) || collectSymbolic(node.args['mask'] ?? null).length > 0;
  const outMasked = node.outputs.some((o) => o.mask !== null);
  if (!outMasked) return inMasked ? 'consumes' : '-';
  const own = node.outputs.some((o) => o.mask?.origin?.layerName === node.layer.name);
  return !inMasked || own ? 'makes' : 'passes';
}

function shapeText(outs: SymbolicTensor[]): string {
  const one = (s: SymbolicTensor) => `(${s.shape.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.shape.length === 1 ? ',' : ''})`;
  return outs.length === 1 ? one(outs[0]!) : `[${outs.map(one).join(', ')}]`;
}

export function formatSummary(model: Model): string {
  if (!model.built) {
    throw new MasqueError('NOT_BUILT', `summary: model '${model.name}' is not built yet, so its layers' shapes are unknown; call it on data, call model.build(inputShape), or start it with Input (as Keras: "This model has not yet been built").`);
  }
  const rows: string[][] = [['Layer (type)', 'Output Shape', 'Param #', 'Mask']];
  const sequential = model.className === 'Sequential';
  // One row per layer, as Keras lists a shared layer once; its calls' inputs follow the arrow.
  const byLayer = new Map<Node['layer'], Node[]>();
  for (const n of model.graphNodes) {
    if (n.layer instanceof InputLayer && sequential) continue;
    byLayer.set(n.layer, [...(byLayer.get(n.layer) ?? []), n]);
  }
  for (const [layer, nodes] of byLayer) {
    const calls = nodes.map((n) => collectSymbolic(n.inputs).map((s) => s.node?.layer.name ?? s.name).join(', ')).filter((c) => c !== '');
    const roles = [...new Set(nodes.map((n) => (layer instanceof InputLayer ? '-' : maskRole(n))))];
    const label = `${layer.name} (${layer.className})`;
    const connected = sequential || (calls.length <= 1 && nodes.every((n) => collectSymbolic(n.inputs).length <= 1)) ? label : `${label} <- ${calls.join(' | ')}`;
    rows.push([connected, shapeText(nodes[0]!.outputs), String(layer.countParams()), roles.join('/')]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const total = model.countParams();
  const trainable = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  const rule = '-'.repeat(widths.reduce((a, b) => a + b + 2, -2));
  return [
    `Model: "${model.name}" (${model.className})`,
    rule,
    line(rows[0]!),
    rule.replace(/-/g, '='),
    ...rows.slice(1).map(line),
    rule,
    `Total params: ${total}`,
    `Trainable params: ${trainable}`,
    `Non-trainable params: ${total - trainable}`,
    'Mask: makes = creates a mask, passes = forwards it, consumes = uses it and outputs none, drops = cannot use it (maskPolicy warn/ignore).',
  ].join('\n');
}
