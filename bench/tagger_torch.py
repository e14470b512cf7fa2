#!/usr/bin/python3
"""PyTorch reference for the Brown part-of-speech tagger (issue 17).

    /usr/bin/python3 bench/tagger_torch.py [--epochs N] [--train-limit N] [--json] [--seed S] [--threads 2] [--model bilstm|transformer]

(Debian's python3-torch lives in the system Python, /usr/bin/python3.)

Data: bench/tagger_data.py (the twin of demo/tagger/brown.ts), the same ids.
Model: Embedding(V, 64, padding_idx=0) -> bidirectional LSTM (64 per
direction, batch_first, on a pack_padded_sequence) -> pad_packed_sequence ->
Linear(128, n_tags) at every step; cross-entropy over the valid steps only
(padded labels are -100, ignore_index). Adam, lr 1e-3, PyTorch's default
initialization. CPU, torch.set_num_threads(2) (--threads). On a machine
shared with other jobs, 2 OpenMP threads spin at their barriers and run up
to 10x slower; compare the load average in the output, and --threads 1.

Batching: the training sentences are sorted by length (longest first, ties by
index), cut into batches of 32, and the batch order is shuffled every epoch
(random.Random(seed)); each batch is padded to its own longest sentence
inside the timed loop (as a DataLoader collate would). Inference: the
held-out sentences sorted the same way, batches of 256, eval mode and
torch.no_grad, forward + argmax; the rate is the median of 3 passes.

Reports (one JSON line with --json; the same shape as bench/tagger_masque.ts):
training real tokens/s (wall clock over the training loop, data preparation
excluded), epoch seconds, inference real tokens/s, held-out token accuracy
after each epoch; also the process CPU time (all threads) of the epochs and
of one inference pass, and the 1-minute load average before and after
training (other jobs on the machine distort the rates; check it is ~0).
"""
import argparse
import json
import os
import platform
import random
import sys
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tagger_data import load_tagger  # noqa: E402

EMBED = 64
UNITS = 64
BATCH = 32
INFER_BATCH = 256
LR = 1e-3


class Tagger(nn.Module):
    def __init__(self, vocab, n_tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED, padding_idx=0)
        self.lstm = nn.LSTM(EMBED, UNITS, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * UNITS, n_tags)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(self.embed(x), lengths, batch_first=True, enforce_sorted=True)
        h, _ = self.lstm(packed)
        h, _ = pad_packed_sequence(h, batch_first=True, total_length=x.shape[1])
        return self.out(h)


class TransformerTagger(nn.Module):
    """--model transformer: Embedding(V, 64, padding_idx=0) -> one post-norm
    nn.TransformerEncoderLayer(d_model=64, nhead=2, dim_feedforward=128,
    dropout=0, relu, batch_first) with src_key_padding_mask (inside an
    nn.TransformerEncoder of 1 layer, enable_nested_tensor=True, so that in
    eval mode under torch.no_grad the fast path packs the batch into a nested
    tensor) -> Linear(64, n_tags) at every step. No positional encoding
    (neither has the Masque model)."""

    def __init__(self, vocab, n_tags):
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED, padding_idx=0)
        layer = nn.TransformerEncoderLayer(d_model=EMBED, nhead=2, dim_feedforward=128, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=True)
        self.out = nn.Linear(EMBED, n_tags)

    def forward(self, x, lengths):
        pad_mask = torch.arange(x.shape[1])[None, :] >= lengths[:, None]
        h = self.encoder(self.embed(x), src_key_padding_mask=pad_mask)
        return self.out(h)


def length_batches(ids, labels, size):
    """Sentences sorted by length (longest first, ties by index), cut into batches of `size`."""
    order = sorted(range(len(ids)), key=lambda i: (-len(ids[i]), i))
    out = []
    for s in range(0, len(order), size):
        rows = order[s:s + size]
        out.append(([torch.tensor(ids[i], dtype=torch.long) for i in rows],
                    [torch.tensor(labels[i], dtype=torch.long) for i in rows],
                    torch.tensor([len(ids[i]) for i in rows], dtype=torch.long)))
    return out


def plan_batches(ids, labels, plan):
    """The batches of a plan (lists of sentence indices, in order), each sorted by length for pack_padded_sequence."""
    out = []
    for rows in plan:
        rows = sorted(rows, key=lambda i: (-len(ids[i]), i))
        out.append(([torch.tensor(ids[i], dtype=torch.long) for i in rows],
                    [torch.tensor(labels[i], dtype=torch.long) for i in rows],
                    torch.tensor([len(ids[i]) for i in rows], dtype=torch.long)))
    return out


def pad(batch):
    xs, ys, lengths = batch
    return pad_sequence(xs, batch_first=True, padding_value=0), pad_sequence(ys, batch_first=True, padding_value=-100), lengths


def evaluate(model, batches):
    """Forward + argmax over the batches; returns (correct, total, wall seconds, CPU seconds)."""
    model.eval()
    correct = total = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    with torch.no_grad():
        for b in batches:
            x, y, lengths = pad(b)
            pred = model(x, lengths).argmax(-1)
            valid = y != -100
            correct += int((pred[valid] == y[valid]).sum())
            total += int(lengths.sum())
    return correct, total, time.perf_counter() - t0, time.process_time() - c0


def machine():
    cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.processor())
    return {'cpu': cpu, 'nproc': os.cpu_count(), 'python': platform.python_version()}


def blas_libraries():
    """The BLAS and LAPACK libraries this process has loaded (Debian's torch links the system's libblas.so.3,
    which is the slow reference BLAS unless an optimized one such as libopenblas0 is installed)."""
    try:
        with open('/proc/self/maps') as f:
            paths = {l.split()[-1] for l in f if len(l.split()) >= 6 and l.split()[-1].startswith('/')}
    except OSError:
        return []
    return sorted(p for p in paths if 'blas' in p.lower() or 'mkl' in p.lower())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--train-limit', type=int, default=None)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2, as the issue)')
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--model', choices=['bilstm', 'transformer'], default='bilstm', help='bilstm (default) or transformer (one post-norm TransformerEncoderLayer, 2 heads, FFN 128)')
    ap.add_argument('--warmup', type=int, default=0, help='train on the first N batches before the timed epochs (default 0)')
    ap.add_argument('--plan', default=None, help='JSON file: the training batches (lists of training-sentence indices) in order, used as given instead of the sort-and-shuffle batching (scripts/bench_tagger.ts passes the batches Masque trains on)')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    t0 = time.perf_counter()
    data = load_tagger(train_limit=args.train_limit)
    vocab, n_tags = len(data['words']), len(data['tags'])
    if args.plan is not None:
        with open(args.plan) as f:
            train = plan_batches(data['train']['ids'], data['train']['labels'], json.load(f))
    else:
        train = length_batches(data['train']['ids'], data['train']['labels'], BATCH)
    test = length_batches(data['test']['ids'], data['test']['labels'], INFER_BATCH)
    train_tokens = data['counts']['trainTokens']
    test_tokens = data['counts']['testTokens']
    padded = sum(len(b[0]) * int(b[2].max()) for b in train)
    log(f'data: {data["counts"]["trainSentences"]} training sentences ({train_tokens} tokens, {train_tokens / padded:.3f} of the padded cells real), '
        f'{data["counts"]["testSentences"]} held out ({test_tokens} tokens); V={vocab}, {n_tags} tags; prepared in {time.perf_counter() - t0:.1f} s')

    model = TransformerTagger(vocab, n_tags) if args.model == 'transformer' else Tagger(vocab, n_tags)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
    rng = random.Random(args.seed)
    model.train()
    for k in range(min(args.warmup, len(train))):
        x, y, lengths = pad(train[k])
        loss = loss_fn(model(x, lengths).reshape(-1, n_tags), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss)
    load_before = os.getloadavg()[0]
    epoch_seconds, epoch_cpu, losses, accs = [], [], [], []
    for epoch in range(args.epochs):
        model.train()
        order = list(range(len(train)))
        if args.plan is None:
            rng.shuffle(order)
        loss_sum = 0.0
        t0 = time.perf_counter()
        c0 = time.process_time()
        for k in order:
            x, y, lengths = pad(train[k])
            logits = model(x, lengths)
            loss = loss_fn(logits.reshape(-1, n_tags), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss) * int(lengths.sum())
        epoch_seconds.append(time.perf_counter() - t0)
        epoch_cpu.append(time.process_time() - c0)
        losses.append(loss_sum / train_tokens)
        correct, total, _, _ = evaluate(model, test)
        accs.append(correct / total)
        log(f'epoch {epoch + 1}: {epoch_seconds[-1]:.1f} s, {train_tokens / epoch_seconds[-1]:.0f} real tokens/s, '
            f'loss {losses[-1]:.4f}, held-out accuracy {accs[-1]:.4f}')

    passes = [evaluate(model, test) for _ in range(3)]
    infer = sorted(p[2] for p in passes)[1]
    infer_cpu = sorted(p[3] for p in passes)[1]
    result = {
        'framework': 'pytorch',
        'model': args.model,
        'version': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': blas_libraries(),
        'machine': machine(),
        'epochs': args.epochs,
        'trainSentences': data['counts']['trainSentences'],
        'trainTokens': train_tokens,
        'testTokens': test_tokens,
        'vocab': vocab,
        'tags': n_tags,
        'batchSize': BATCH,
        'inferBatchSize': INFER_BATCH,
        'trainRealFraction': train_tokens / padded,
        'epochSeconds': epoch_seconds,
        'epochCpuSeconds': epoch_cpu,
        'trainTokensPerSec': train_tokens * args.epochs / sum(epoch_seconds),
        'inferTokensPerSec': test_tokens / infer,
        'inferCpuSeconds': infer_cpu,
        'loadAverage': [load_before, os.getloadavg()[0]],
        'loss': losses,
        'heldOutAccuracyPerEpoch': accs,
        'heldOutAccuracy': accs[-1],
    }
    log(f'training {result["trainTokensPerSec"]:.0f} real tokens/s; inference {result["inferTokensPerSec"]:.0f} tokens/s (batch 256); '
        f'held-out accuracy {result["heldOutAccuracy"]:.4f}')
    if args.json:
        print(json.dumps(result))


if __name__ == '__main__':
    main()
