#!/usr/bin/python3
"""bert_ref.py VOCAB [--lower] < lines: an independent Python model of
Hugging Face's BertTokenizerFast (tokenizers' BertNormalizer,
BertPreTokenizer and WordPiece, written from their Rust definitions), one
line of ids per input line.  Used by tokenizer-wordpiece.sh as an oracle.

Rust semantics kept: whitespace is char::is_whitespace (White_Space);
control is Cc/Cf/Co; CJK Extension E starts at U+2B920; accents are
stripped (NFD, drop Mn) before char-by-char lowercasing; special tokens
are matched verbatim in the raw text (leftmost, longest)."""
import sys
import unicodedata

WHITE = set("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)}
CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
       (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def is_cjk(c):
    o = ord(c)
    return any(a <= o <= b for a, b in CJK)


def is_punct(c):
    o = ord(c)
    if 33 <= o <= 47 or 58 <= o <= 64 or 91 <= o <= 96 or 123 <= o <= 126:
        return True
    return unicodedata.category(c).startswith("P")


def normalize(text, lower):
    out = []
    for c in text:
        if c in "\t\n\r":
            out.append(" ")
            continue
        if c in ("\0", "\ufffd") or unicodedata.category(c).startswith("C"):
            continue
        if c in WHITE:
            out.append(" ")
        elif is_cjk(c):
            out.append(" " + c + " ")
        else:
            out.append(c)
    s = "".join(out)
    if lower:
        s = unicodedata.normalize("NFD", s)
        s = "".join(c for c in s if unicodedata.category(c) != "Mn")
        s = "".join(c.lower() for c in s)
    return s


def words(s):
    w = []
    for c in s:
        if c in WHITE:
            if w:
                yield "".join(w)
            w = []
        elif is_punct(c):
            if w:
                yield "".join(w)
            w = []
            yield c
        else:
            w.append(c)
    if w:
        yield "".join(w)


def wordpiece(word, vocab, unk):
    if len(word) > 100:
        return [unk]
    out, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while end > start:
            sub = word[start:end] if start == 0 else "##" + word[start:end]
            if sub in vocab:
                found = vocab[sub]
                break
            end -= 1
        if found is None:
            return [unk]
        out.append(found)
        start = end
    return out


def encode(text, vocab, lower):
    ids, seg, i = [], 0, 0
    pieces = []
    while i < len(text):
        m = max((s for s in SPECIALS if s in vocab and text.startswith(s, i)), key=len, default=None)
        if m:
            pieces.append(text[seg:i])
            pieces.append(m)
            i += len(m)
            seg = i
        else:
            i += 1
    pieces.append(text[seg:])
    for k, p in enumerate(pieces):
        if k % 2:
            ids.append(vocab[p])
        else:
            for w in words(normalize(p, lower)):
                ids.extend(wordpiece(w, vocab, vocab["[UNK]"]))
    return ids


def main():
    lower = "--lower" in sys.argv
    path = [a for a in sys.argv[1:] if a != "--lower"][0]
    vocab = {}
    with open(path, encoding="utf-8", newline="") as f:
        # split on "\n" only (U+2028 pieces); a repeated piece keeps its last id
        for i, tok in enumerate(f.read().split("\n")):
            if tok:
                vocab[tok] = i
    for line in sys.stdin.buffer:
        text = line.rstrip(b"\n").decode("utf-8", "replace")
        sys.stdout.write(" ".join(map(str, encode(text, vocab, lower))) + "\n")


main()
