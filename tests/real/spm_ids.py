#!/usr/bin/python3
"""spm_ids.py MODEL < lines: the SentencePiece oracle's ids, one line each
(space-separated), for the Unigram parity test (tokenizer-unigram.sh)."""
import sys
import sentencepiece as spm

sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
out = sys.stdout
for line in sys.stdin.buffer:
    text = line.rstrip(b"\n").decode("utf-8", "replace")
    out.write(" ".join(map(str, sp.encode(text))) + "\n")
