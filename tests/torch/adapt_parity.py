#!/usr/bin/python3
"""PyTorch parity of the full task model: frozen BERT + Pfeiffer task adapter
+ each head (tagging for pos and ner, classification, QA, biaffine parser).

Reads the dumps of tests/torch/adapt_driver.c (one tensor stream per task:
base weights, adapter and head weights under AdapterHub names, the batch,
xf's outputs and gradients), rebuilds the model in float64 from the
encoder engineer's reference (mlm_parity.Base, HF 4.21 BertModel) with the
adapters library's Pfeiffer adapter (SeqBnConfig: original_ln_before,
original_ln_after, residual_before_ln; ReLU) patched into every BertOutput,
and the adapters library's heads, then compares logits, loss and the
gradient of every trainable tensor: max|xf - ref| / max|ref| <= 1e-4.
Usage: adapt_parity.py DUMPDIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlm_parity as ref  # noqa: E402  (the reference BERT; sets float64 default)

torch.set_default_dtype(torch.float64)
TOL = 1e-4


def adapter_output(dense, ln, down_w, down_b, up_w, up_b):
    """BertOutput with a Pfeiffer adapter (adapters' Bottleneck adapter_layer_forward)."""
    def forward(h_in, inp):
        h = dense(h_in)                                   # dropout p = 0
        residual = h                                      # residual_before_ln = True
        a = ln(h + inp)                                   # original_ln_before
        o = F.linear(F.relu(F.linear(a, down_w, down_b)), up_w, up_b) + residual
        return ln(o + inp)                                # original_ln_after
    return forward


def frozen_base(path, trainable):
    """The dump's config and tensors, the frozen reference base, and the
    tensors for which trainable(name) holds as leaves with gradients."""
    head, t = ref.read_xfts(path)
    c = dict(head["parity"])
    c.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, model_type="bert")
    base = ref.Base(c, False)
    sd = {k[len("bert."):]: torch.tensor(v) for k, v in t.items() if k.startswith("bert.embeddings")
          or k.startswith("bert.encoder.layer.") and ".adapters." not in k}
    missing, unexpected = base.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert not [m for m in missing if "position_ids" not in m], missing
    for p in base.parameters():
        p.requires_grad_(False)
    train = {k: torch.tensor(v, requires_grad=True) for k, v in t.items()
             if not k.startswith("grad.") and trainable(k)}
    return c, t, base, train


def install_adapters(base, train, name):
    """Patches the Pfeiffer adapter NAME into every BertOutput."""
    for i, layer in enumerate(base.encoder.layer):
        pre = "bert.encoder.layer.%d.output.adapters.%s." % (i, name)
        layer.output.forward = adapter_output(layer.output.dense, layer.output.LayerNorm,
                                              train[pre + "adapter_down.0.weight"],
                                              train[pre + "adapter_down.0.bias"],
                                              train[pre + "adapter_up.weight"],
                                              train[pre + "adapter_up.bias"])


def run(path):
    c, t, base, train = frozen_base(path, lambda k: ".adapters." in k or k.startswith("heads."))
    task = c["task"]
    install_adapters(base, train, "t")
    ids = torch.tensor(t["in.ids"]).long()
    am = torch.tensor(t["in.am"])
    B, T = ids.shape
    hid = base(ids, am)                                   # [B, T, H]
    H = hid.shape[-1]
    ws, we = t["in.wstart"].astype(int), t["in.wend"].astype(int)
    nw = [(ws[b] >= 0).sum() for b in range(B)]
    logits = None
    if task in ("pos", "ner"):                            # TaggingHead: first subword
        rows = torch.stack([hid[b, ws[b, k]] for b in range(B) for k in range(nw[b])])
        gold = torch.tensor([t["in.labels"][b, k] for b in range(B) for k in range(nw[b])]).long()
        logits = F.linear(rows, train["heads.t.1.weight"], train["heads.t.1.bias"])
        loss = F.cross_entropy(logits, gold)
    elif task == "nli":                                   # ClassificationHead on [CLS]
        x = torch.tanh(F.linear(hid[:, 0], train["heads.t.1.weight"], train["heads.t.1.bias"]))
        logits = F.linear(x, train["heads.t.4.weight"], train["heads.t.4.bias"])
        loss = F.cross_entropy(logits, torch.tensor(t["in.cls"]).long())
    elif task == "qa":                                    # QuestionAnsweringHead
        logits = F.linear(hid, train["heads.t.1.weight"], train["heads.t.1.bias"])   # [B,T,2]
        lens = am.sum(1).long()
        ans = torch.tensor(t["in.ans"]).long()
        ls, le = [], []
        for b in range(B):   # each window's own tokens are the candidates
            ls.append(F.cross_entropy(logits[b, :lens[b], 0][None], ans[b, 0][None]))
            le.append(F.cross_entropy(logits[b, :lens[b], 1][None], ans[b, 1][None]))
        loss = (torch.stack(ls).mean() + torch.stack(le).mean()) / 2
        keep = am.reshape(-1) > 0
        logits = logits.reshape(B * T, 2)
        xf_logits = torch.tensor(t["out.logits"])
        ref.check("qa logits (real tokens)", xf_logits[keep].numpy(), logits[keep].detach().numpy())
        logits = None
    elif task == "dep":                                   # BiaffineParsingHead
        Wa = train["heads.t.biaffine_arcs.weight"][0]     # [H+1, H]
        Wr = train["heads.t.biaffine_rels.weight"]        # [R, H+1, H+1]
        arc_l, rel_l, n_all = [], [], 0
        for b in range(B):
            n = nw[b]
            words = torch.stack([hid[b, ws[b, k]:we[b, k]].mean(0) for k in range(n)])
            hv = torch.cat([hid[b, 0][None], words])      # root = [CLS]
            u = torch.cat([words, torch.ones(n, 1)], 1)
            arc = u @ Wa @ hv.T                           # [n, n+1]
            heads = torch.tensor(t["in.heads"][b, :n]).long()
            rels = torch.tensor(t["in.rels"][b, :n]).long()
            arc_l.append(F.cross_entropy(arc, heads, reduction="sum"))
            v = torch.cat([hv[heads], torch.ones(n, 1)], 1)
            rel = torch.einsum("ni,rij,nj->nr", u, Wr, v)
            rel_l.append(F.cross_entropy(rel, rels, reduction="sum"))
            n_all += n
        loss = torch.stack(arc_l).sum() / n_all + torch.stack(rel_l).sum() / n_all
    loss.backward()
    if logits is not None:
        ref.check("%s logits" % task, t["out.logits"], logits.detach().numpy())
    ref.check("%s loss" % task, t["out.loss"], [loss.item()])
    for k, v in sorted(train.items()):
        g = v.grad.numpy()
        # a gradient that is exactly 0 in exact arithmetic (QA biases: the
        # softmax gradient sums to 0) is compared in absolute terms
        absolute = 1e-6 if np.max(np.abs(g)) < 1e-9 else None
        ref.check("%s grad %s" % (task, k), t["grad." + k], g, absolute=absolute)


def nice(x, p, pre, rev):
    """The adapters library's NICECouplingBlock: forward, or inverse (rev)."""
    C = x.shape[-1]
    C1 = C // 2
    def mlp(v, k):
        return F.linear(F.relu(F.linear(v, p[pre + k + ".0.weight"], p[pre + k + ".0.bias"])),
                        p[pre + k + ".2.weight"], p[pre + k + ".2.bias"])
    if not rev:
        x1, x2 = x[..., :C1], x[..., C1:]
        y1 = x1 + mlp(x2, "F")
        return torch.cat((y1, x2 + mlp(y1, "G")), -1)
    y1, y2 = x[..., :C1], x[..., C1:]
    x2 = y2 - mlp(y1, "G")
    return torch.cat((y1 - mlp(x2, "F"), x2), -1)


def run_mlm_inv(path):
    """Language-adapter training with pfeiffer+inv (adapter-transformers 3.1
    BertForMaskedLM): invertible adapter on the embedding output, Pfeiffer
    adapters, MLM head transform, the inverse coupling, then the tied decoder."""
    c, t, base, train = frozen_base(path, lambda k: ".adapters." in k or "invertible_adapters." in k
                                    or k.startswith("cls."))
    assert any("invertible_adapters.en." in k for k in train), sorted(train)
    install_adapters(base, train, "en")
    emb = base.embeddings.forward
    inv = "bert.invertible_adapters.en."
    base.embeddings.forward = lambda ids: nice(emb(ids), train, inv, False)
    ids = torch.tensor(t["in.ids"]).long()
    am = torch.tensor(t["in.am"])
    labels = torch.tensor(t["in.labels"]).long()
    hid = base(ids, am)
    sel = labels.view(-1) != -100
    x = hid.reshape(-1, hid.shape[-1])[sel]
    x = F.linear(x, train["cls.predictions.transform.dense.weight"],
                 train["cls.predictions.transform.dense.bias"])
    x = F.layer_norm(F.gelu(x), x.shape[-1:], train["cls.predictions.transform.LayerNorm.weight"],
                     train["cls.predictions.transform.LayerNorm.bias"], c["layer_norm_eps"])
    x = nice(x, train, inv, True)                         # inv_lang_adapter(rev=True) before the decoder
    logits = F.linear(x, base.embeddings.word_embeddings.weight, train["cls.predictions.bias"])
    loss = F.cross_entropy(logits, labels.view(-1)[sel])
    loss.backward()
    ref.check("mlm+inv logits", t["out.logits"], logits.detach().numpy())
    ref.check("mlm+inv loss", t["out.loss"], [loss.item()])
    for k, v in sorted(train.items()):
        ref.check("mlm+inv grad %s" % k, t["grad." + k], v.grad.numpy())


def main():
    d = sys.argv[1]
    for task in ("pos", "ner", "nli", "qa", "dep"):
        run(os.path.join(d, task + ".xfts"))
    run_mlm_inv(os.path.join(d, "mlm.xfts"))
    if ref.failures:
        print("%d comparisons failed" % len(ref.failures))
        sys.exit(1)
    print("all comparisons within tolerance")


if __name__ == "__main__":
    main()
