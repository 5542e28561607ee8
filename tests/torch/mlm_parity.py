#!/usr/bin/python3
"""PyTorch parity of xf-mlmstep (the encoder, its MLM head, AdamW, the schedule).

The reference model below is written by hand (no `transformers` here) after HF
transformers 4.21 modeling_bert.py / modeling_roberta.py — BertForMaskedLM and
RobertaForMaskedLM with eager attention — keeping HF's module and parameter
names, so the state-dict names are the HF ones.  It runs in float64, so it is
the reference and xf's float32 is what is measured.

For a BERT and an XLM-R-style model (random weights, written as an HF folder
with a hand-written model.safetensors), it feeds the same masked batches to xf
(xf-mlmstep --test-masks) and to the reference, and compares: the logits of
the masked positions and the loss of step 1, every parameter gradient after
step 1, the loss of each step, and every parameter after 3 AdamW steps with
the linear schedule (torch.optim.AdamW + HF get_linear_schedule_with_warmup,
HF run_mlm_no_trainer's no-decay groups).  Dropout is 0 in both configs.
The XLM-R case stores lm_head.decoder.weight, as the original checkpoints
do: HF ties it to the word embeddings all the same (tie_word_embeddings
defaults to true), so the reference is tied and so must xf be.
Tolerance: max|xf - ref| / max|ref| <= 1e-4 per tensor.
Usage: mlm_parity.py WORKDIR
"""
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
TOL = 1e-4


# ---- the reference model (HF 4.21 semantics) ----

def create_position_ids_from_input_ids(input_ids, padding_idx):
    # modeling_roberta.create_position_ids_from_input_ids (past length 0)
    mask = input_ids.ne(padding_idx).int()
    incremental = torch.cumsum(mask, dim=1).type_as(mask) * mask
    return incremental.long() + padding_idx


class Embeddings(nn.Module):
    def __init__(self, c, roberta):
        super().__init__()
        self.roberta = roberta
        self.pad = c["pad_token_id"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=self.pad)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"],
                                                padding_idx=self.pad if roberta else None)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, ids):
        if self.roberta:
            pos = create_position_ids_from_input_ids(ids, self.pad)
        else:
            pos = torch.arange(ids.shape[1]).unsqueeze(0).expand_as(ids)
        tt = torch.zeros_like(ids)
        emb = self.word_embeddings(ids) + self.token_type_embeddings(tt)
        emb = emb + self.position_embeddings(pos)
        return self.LayerNorm(emb)   # dropout p = 0


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        C = c["hidden_size"]
        self.h = c["num_attention_heads"]
        self.d = C // self.h
        self.query = nn.Linear(C, C)
        self.key = nn.Linear(C, C)
        self.value = nn.Linear(C, C)

    def split(self, x):
        B, T, _ = x.shape
        return x.view(B, T, self.h, self.d).permute(0, 2, 1, 3)

    def forward(self, x, ext_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d) + ext_mask
        probs = F.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(x.shape)


class DenseLN(nn.Module):   # BertSelfOutput / BertOutput
    def __init__(self, cin, c):
        super().__init__()
        self.dense = nn.Linear(cin, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, h, inp):
        return self.LayerNorm(self.dense(h) + inp)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLN(c["hidden_size"], c)

    def forward(self, x, m):
        return self.output(self.self(x, m), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))   # ACT2FN["gelu"]: exact erf GELU


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c["intermediate_size"], c)

    def forward(self, x, m):
        a = self.attention(x, m)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Base(nn.Module):   # BertModel / RobertaModel (add_pooling_layer=False)
    def __init__(self, c, roberta):
        super().__init__()
        self.embeddings = Embeddings(c, roberta)
        self.encoder = Encoder(c)

    def forward(self, ids, am):
        # get_extended_attention_mask: (1 - mask) * finfo(dtype).min
        ext = (1.0 - am[:, None, None, :].to(torch.float64)) * torch.finfo(torch.float64).min
        x = self.embeddings(ids)
        for layer in self.encoder.layer:
            x = layer(x, ext)
        return x


class Transform(nn.Module):   # BertPredictionHeadTransform
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = Transform(c)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)

    def forward(self, x, wte):
        p = self.predictions
        return F.linear(p.transform(x), wte, p.bias)   # decoder tied to the word embeddings


class RobertaLMHead(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.layer_norm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))

    def forward(self, x, wte):
        return F.linear(self.layer_norm(F.gelu(self.dense(x))), wte, self.bias)


class ForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.roberta_style = c["model_type"] != "bert"
        if self.roberta_style:
            self.roberta = Base(c, True)
            self.lm_head = RobertaLMHead(c)
        else:
            self.bert = Base(c, False)
            self.cls = BertOnlyMLMHead(c)

    def forward(self, ids, am, labels):
        base = self.roberta if self.roberta_style else self.bert
        head = self.lm_head if self.roberta_style else self.cls
        h = base(ids, am)
        sel = labels.view(-1) != -100
        # HF decodes every position; the loss (CrossEntropyLoss, -100 ignored) only sees these
        logits = head(h.view(-1, h.shape[-1])[sel], base.embeddings.word_embeddings.weight)
        loss = F.cross_entropy(logits, labels.view(-1)[sel])
        return logits, loss


# ---- files ----

def write_safetensors(path, tensors):
    header, off, blobs = {}, 0, []
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_xfts(path):
    """An xf tensor stream (xf-stream(5)): zstd(magic HEAD TENS* TAIL)."""
    raw = subprocess.run(["zstd", "-dcq", path], check=True, stdout=subprocess.PIPE).stdout
    assert raw[:4] == b"XFTS", path
    pos, out, head = 8, {}, None
    while True:
        tag = raw[pos:pos + 4]
        (n,) = struct.unpack_from("<Q", raw, pos + 4)
        body = raw[pos + 12:pos + 12 + n]
        pos += 12 + n
        if tag == b"HEAD":
            head = json.loads(body)
        elif tag == b"TENS":
            (ln,) = struct.unpack_from("<H", body, 0)
            name = body[2:2 + ln].decode()
            dtype, nd = body[2 + ln], body[3 + ln]
            shape = struct.unpack_from("<%dQ" % nd, body, 4 + ln)
            data = body[4 + ln + 8 * nd:]
            assert dtype == 0, (name, dtype)
            out[name] = np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float64)
        elif tag == b"TAIL":
            return head, out
        else:
            raise ValueError("bad record %r" % tag)


# ---- the comparison ----

failures = []


def check(what, x, ref, tol=TOL, absolute=None):
    x, ref = np.asarray(x, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    if x.shape != ref.shape:
        failures.append("%s: shape %s vs %s" % (what, x.shape, ref.shape))
        print("FAIL", failures[-1])
        return
    err = float(np.max(np.abs(x - ref))) if x.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    if absolute is not None:
        ok, shown = err <= absolute, "abs %.3g (limit %.3g)" % (err, absolute)
    else:
        rel = err / scale if scale > 0 else err
        ok, shown = rel <= tol, "rel %.3g" % rel
    print("%-4s %-70s %s" % ("ok" if ok else "FAIL", what, shown))
    if not ok:
        failures.append("%s: %s" % (what, shown))


def run_case(work, name, cfg, vocab, lr, wd, clip, steps=3, B=3, lens=(12, 9, 7), seed=0,
             store_decoder=False):
    d = os.path.join(work, name)
    os.makedirs(d)
    g = torch.Generator().manual_seed(seed)
    model = ForMaskedLM(cfg)
    with torch.no_grad():   # random weights, biases and LN included, so every term is tested
        for n, p in model.named_parameters():
            if n.endswith("LayerNorm.weight") or n.endswith("layer_norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            # round to float32: the file is f32, both sides start from the same numbers
            p.copy_(p.float().double())
    sd = {n: p for n, p in model.named_parameters()}
    stored = dict(sd)
    if store_decoder:
        # as the original xlm-roberta-base / mBERT checkpoints do: HF ties it anyway
        # (tie_word_embeddings defaults to true), so the reference keeps it tied
        dec = "cls.predictions.decoder.weight" if name == "bert" else "lm_head.decoder.weight"
        base = "bert" if name == "bert" else "roberta"
        stored[dec] = sd[base + ".embeddings.word_embeddings.weight"].detach().clone()
    write_safetensors(os.path.join(d, "model.safetensors"), stored)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f)
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")

    V, pad = cfg["vocab_size"], cfg["pad_token_id"]
    special = {i for i, p in enumerate(vocab) if p.startswith("[")}
    cls, sep, mask = vocab.index("[CLS]"), vocab.index("[SEP]"), vocab.index("[MASK]")
    normal = [i for i in range(V) if i not in special]
    rng = np.random.default_rng(seed + 1)
    batches = []   # per step: (input [B,T], labels [B,T], am [B,T])
    with open(os.path.join(d, "masks.tsv"), "w") as mf, open(os.path.join(d, "ex.tsv"), "w") as ef:
        mf.write("step\trow\tinput\tlabels\n")
        ef.write("lang\tid\ttask\tids\ttypes\twords\tlabels\theads\trels\toffsets\textra\n")
        for s in range(steps):
            T = max(lens)
            inp = np.full((B, T), pad, dtype=np.int64)
            lab = np.full((B, T), -100, dtype=np.int64)
            am = np.zeros((B, T), dtype=np.int64)
            for b in range(B):
                n = lens[(b + s) % len(lens)]
                ids = [cls] + list(rng.choice(normal, n - 2)) + [sep]
                ef.write("xx\tr%d_%d\tmlm\t%s\t-\t-\t-\t-\t-\t-\t-\n" % (s, b, " ".join(map(str, ids))))
                # DataCollatorForLanguageModeling with fixed draws; >= 1 masked per row
                sel = [t for t in range(1, n - 1) if rng.random() < 0.3] or [1]
                x, y = list(ids), [-100] * n
                for t in sel:
                    y[t] = ids[t]
                    r = rng.random()
                    x[t] = mask if r < 0.8 else (int(rng.integers(V)) if r < 0.9 else ids[t])
                mf.write("%d\t%d\t%s\t%s\n" % (s, b, " ".join(map(str, x)), " ".join(map(str, y))))
                inp[b, :n], lab[b, :n], am[b, :n] = x, y, 1
            # xf pads each batch to its longest row
            Tb = int(am.sum(1).max())
            batches.append((inp[:, :Tb], lab[:, :Tb], am[:, :Tb]))

    out, dump = os.path.join(d, "out.xfts"), os.path.join(d, "dump.xfts")
    cmd = ["xf-mlmstep", "--model", d, "--steps", str(steps), "--batch", str(B), "--lr", repr(lr),
           "--weight-decay", repr(wd), "--threads", "2", "--test-masks", os.path.join(d, "masks.tsv"),
           "--test-dump", dump, "-o", out, os.path.join(d, "ex.tsv")]
    if clip:
        cmd[1:1] = ["--clip", repr(clip)]
    print("+", " ".join(cmd))
    subprocess.run(cmd, check=True)
    _, xd = read_xfts(dump)
    _, xm = read_xfts(out)

    # reference: torch AdamW with run_mlm_no_trainer's groups, HF linear schedule
    no_decay = ["bias", "LayerNorm.weight"]
    groups = [{"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
               "weight_decay": wd},
              {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
               "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, (steps - s) / max(1, steps)))
    for s, (inp, lab, am) in enumerate(batches):
        opt.zero_grad()
        logits, loss = model(torch.tensor(inp), torch.tensor(am), torch.tensor(lab))
        loss.backward()
        check("%s step %d loss" % (name, s + 1), xd["loss"][s], loss.item())
        if s == 0:
            check("%s logits (masked rows)" % name, xd["logits"], logits.detach().numpy())
            for n, p in model.named_parameters():
                ref = p.grad.numpy()
                if ".attention.self.key.bias" in n:
                    # analytically zero (softmax ignores a per-row shift): compare with the
                    # scale of the query bias gradient of the same layer instead
                    qs = np.max(np.abs(sd[n.replace("key", "query")].grad.numpy()))
                    check("%s grad %s" % (name, n), xd["grad." + n], ref, absolute=TOL * qs)
                else:
                    check("%s grad %s" % (name, n), xd["grad." + n], ref)
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
    for n, p in model.named_parameters():
        ref = p.detach().numpy()
        if ".attention.self.key.bias" in n:
            # its gradient is rounding noise (~1e-9); Adam scales noise g to lr·g/(|g|+eps) per
            # step, so only |Δ| <= steps·lr is meaningful here
            check("%s param %s after %d steps" % (name, n, steps), xm[n], ref, absolute=steps * lr)
        else:
            check("%s param %s after %d steps" % (name, n, steps), xm[n], ref)


def main():
    work = sys.argv[1]
    base = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4,
            "intermediate_size": 64, "max_position_embeddings": 40, "layer_norm_eps": 1e-12,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
            "initializer_range": 0.02, "hidden_act": "gelu"}
    bert = dict(base, model_type="bert", vocab_size=64, type_vocab_size=2, pad_token_id=0,
                architectures=["BertForMaskedLM"])
    bert_vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + ["w%d" % i for i in range(59)]
    xlmr = dict(base, model_type="xlm-roberta", vocab_size=56, type_vocab_size=1, pad_token_id=1,
                num_attention_heads=2, intermediate_size=48, layer_norm_eps=1e-5,
                bos_token_id=0, eos_token_id=2, architectures=["XLMRobertaForMaskedLM"])
    xlmr_vocab = ["[CLS]", "[PAD]", "[SEP]", "[UNK]"] + ["p%d" % i for i in range(51)] + ["[MASK]"]
    run_case(work, "bert", bert, bert_vocab, lr=1e-3, wd=0.01, clip=0.5, seed=0)
    run_case(work, "xlmr", xlmr, xlmr_vocab, lr=2e-3, wd=0.0, clip=0.0, seed=7, store_decoder=True)
    if failures:
        print("%d comparisons failed" % len(failures))
        sys.exit(1)
    print("all comparisons within tolerance")


if __name__ == "__main__":
    main()
