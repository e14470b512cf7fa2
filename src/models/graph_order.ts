/**
 * Keras's order of the operations of a functional graph, as
 * `keras/src/ops/function.py` (`map_graph`, `_build_map`) computes it:
 *
 * 1. A depth-first walk from the outputs (in order) through each node's
 *    input tensors in argument order (positional arguments, then keyword
 *    arguments with their keys sorted) numbers each operation when it first
 *    meets it, and lists the nodes in post-order.
 * 2. Going through that list backwards, a node's depth is the longest path
 *    from it to an output; an operation called several times (a shared
 *    layer) takes the largest depth of its nodes.
 * 3. Operations are sorted by depth, deepest first; ties keep the walk's
 *    numbering. Inputs the outputs do not use come at depth 0, first.
 *
 * Keras's `model.layers`, `model.weights`, the layer list of its configs and
 * the group names in `model.weights.h5` (`dense`, `dense_1`, ... by class,
 * in this order) all follow this order, so Masque computes it exactly. The
 * function is generic: the caller says what a node's parents and operation
 * are, so the same code orders Masque's graphs and the graphs Masque writes.
 */

export interface GraphView<N, O> {
  /** The operation (layer, op) a node calls. */
  operation(node: N): O;
  /**
   * The nodes that made the node's input tensors, one per input tensor in
   * Keras's argument order (duplicates allowed; a graph input has none).
   */
  parents(node: N): readonly N[];
}

export interface KerasGraphOrder<N, O> {
  /** Every operation of the graph, deepest first, as Keras's `model.operations`. */
  operations: O[];
  /** The depth of each node (0 for the nodes that make the outputs). */
  depths: Map<N, number>;
}

/**
 * Keras's operation order for a graph whose outputs are made by
 * `outputNodes` (one per output tensor, in order). `inputNodes` are the
 * nodes of the model's inputs: one the outputs never reach is still part of
 * the model, at depth 0.
 */
export function kerasGraphOrder<N, O>(outputNodes: readonly N[], inputNodes: readonly N[], view: GraphView<N, O>): KerasGraphOrder<N, O> {
  const finished = new Set<N>();
  const inProgress = new Set<N>();
  const postOrder: N[] = [];
  const firstSeen = new Map<O, number>();
  const visit = (node: N): void => {
    if (finished.has(node)) return;
    if (inProgress.has(node)) throw new Error('kerasGraphOrder: the graph has a cycle.');
    const op = view.operation(node);
    if (!firstSeen.has(op)) firstSeen.set(op, firstSeen.size);
    inProgress.add(node);
    for (const p of view.parents(node)) visit(p);
    inProgress.delete(node);
    finished.add(node);
    postOrder.push(node);
  };
  for (const n of outputNodes) visit(n);

  const inGraph = new Set(postOrder);
  const depths = new Map<N, number>();
  const opDepths = new Map<O, number>();
  for (let i = postOrder.length - 1; i >= 0; i--) {
    const node = postOrder[i]!;
    const op = view.operation(node);
    const depth = Math.max(depths.get(node) ?? 0, opDepths.get(op) ?? 0);
    opDepths.set(op, depth);
    depths.set(node, depth);
    for (const p of view.parents(node)) {
      if (inGraph.has(p)) depths.set(p, Math.max(depth + 1, depths.get(p) ?? 0));
    }
  }
  for (const n of inputNodes) {
    const op = view.operation(n);
    if (opDepths.has(op)) continue;
    opDepths.set(op, 0);
    firstSeen.set(op, -1);
    depths.set(n, 0);
  }

  // Insertion order of opDepths breaks the remaining ties (unused inputs), as Python's stable sort does.
  const ops = [...opDepths.keys()];
  const rank = new Map(ops.map((o, i) => [o, i]));
  ops.sort((a, b) => opDepths.get(b)! - opDepths.get(a)! || firstSeen.get(a)! - firstSeen.get(b)! || rank.get(a)! - rank.get(b)!);
  return { operations: ops, depths };
}
