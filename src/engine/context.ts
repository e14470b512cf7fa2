/** Call-scoped state: the training flag inherited by nested calls. */
const trainingStack: boolean[] = [];

export function currentTraining(): boolean | undefined {
  return trainingStack.length > 0 ? trainingStack[trainingStack.length - 1] : undefined;
}

export function withTraining<T>(training: boolean, fn: () => T): T {
  trainingStack.push(training);
  try {
    return fn();
  } finally {
    trainingStack.pop();
  }
}
