#!/usr/bin/python3
"""spm_xlnet_hf.py SPIECE TOKENIZER_JSON < lines: Hugging Face's xlnet
tokenizer.json semantics rebuilt on the SentencePiece oracle: Replace ``
and '' by ", NFKD, drop every Mark (M*), then the spm model.  HF's
converter lowers the score of 78 pieces (digit followed by a comma) by 100;
spm cannot, so a line whose oracle or candidate ids touch one of those
pieces is printed as "SKIP" (the test counts them)."""
import json
import sys
import unicodedata
import sentencepiece as spm

sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
vocab = json.load(open(sys.argv[2], encoding="utf-8"))["model"]["vocab"]
penalized = {i for i, (p, s) in enumerate(vocab) if abs(s - sp.get_score(i)) > 1e-3}
cand = open(sys.argv[3], encoding="utf-8").read().split("\n")
for n, line in enumerate(sys.stdin.buffer):
    t = line.rstrip(b"\n").decode("utf-8", "replace")
    t = t.replace("``", '"').replace("''", '"')
    t = unicodedata.normalize("NFKD", t)
    t = "".join(c for c in t if not unicodedata.category(c).startswith("M"))
    ids = sp.encode(t)
    mine = {int(x) for x in cand[n].split()} if n < len(cand) and cand[n] else set()
    if penalized & (set(ids) | mine):
        print("SKIP")
    else:
        print(" ".join(map(str, ids)))
