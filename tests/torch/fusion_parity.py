#!/usr/bin/python3
"""PyTorch parity of AdapterFusion: frozen BERT + Stack(Fuse(l1..lN), task)
+ a tagging or classification head, N = 2 and 3.

Reads the dumps of tests/torch/fusion_driver.c and rebuilds the model in
float64: the reference BERT (mlm_parity.Base, HF 4.21), and in every
BertOutput adapter-transformers 3.1's fusion path written out as the source
has it (AdapterLayer.adapter_fusion: residual = h, query = LN(h + x), the
adapters' bare up-projections; BertFusion with the "dynamic" config:
Q(query)·K(up_i) scores, softmax over the adapters, Σ p_i V(up_i), + residual),
then the task adapter on the fusion output and the final LayerNorm.  Compares
logits, the loss, the loss + Σ 0.01·‖I − V‖² (model_mixin
get_fusion_regularization_loss) and the gradients of the fusion parameters
(of the regularised loss): max|xf - ref| / max|ref| <= 1e-4.
Usage: fusion_parity.py DUMPDIR
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mlm_parity as ref  # noqa: E402  (the reference BERT; sets float64 default)

torch.set_default_dtype(torch.float64)
LANGS = ["eng", "hin", "zho"]


def bottleneck(p, pre, a):
    return F.linear(F.relu(F.linear(a, p[pre + "adapter_down.0.weight"], p[pre + "adapter_down.0.bias"])),
                    p[pre + "adapter_up.weight"], p[pre + "adapter_up.bias"])


def bert_fusion(p, pre, query, up, residual):
    """BertFusion.forward (dynamic: key, query, value, value_before_softmax, T = 1)."""
    q = F.linear(query, p[pre + "query.weight"], p[pre + "query.bias"])
    k = F.linear(up, p[pre + "key.weight"], p[pre + "key.bias"])
    v = F.linear(up, p[pre + "value.weight"])
    scores = torch.squeeze(torch.matmul(q.unsqueeze(2), k.transpose(-2, -1)), dim=2)
    probs = torch.softmax(scores, dim=-1)                 # dropout: eval mode
    ctx = torch.squeeze(torch.matmul(probs.unsqueeze(2), v), dim=2)
    return ctx + residual                                 # residual_before = False


def fused_output(dense, ln, p, i, langs):
    fname = ",".join(langs)
    def forward(h_in, inp):
        h = dense(h_in)
        residual = h                                      # pre_forward: residual_before_ln
        a = ln(h + inp)                                   # original_ln_before; query after the LN
        up = torch.stack([bottleneck(p, "bert.encoder.layer.%d.output.adapters.%s." % (i, l), a)
                          for l in langs])                # [N, B, T, C]
        up = up.permute(1, 2, 0, 3)                       # [B, T, N, C]
        o = bert_fusion(p, "bert.encoder.layer.%d.output.adapter_fusion_layer.%s." % (i, fname),
                        a, up, residual)
        # the task adapter of Stack(Fuse, task): its own pre_forward on o
        o = bottleneck(p, "bert.encoder.layer.%d.output.adapters.t." % i, ln(o + inp)) + o
        return ln(o + inp)                                # post_forward
    return forward


def frozen_base(path):
    """The dump's config and tensors, the frozen reference base, and the
    fusion tensors as leaves with gradients."""
    head, t = ref.read_xfts(path)
    c = dict(head["parity"])
    c.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, model_type="bert")
    base = ref.Base(c, False)
    sd = {k[len("bert."):]: torch.tensor(v) for k, v in t.items() if k.startswith("bert.embeddings")
          or k.startswith("bert.encoder.layer.") and ".adapters." not in k
          and ".adapter_fusion_layer." not in k}
    missing, unexpected = base.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert not [m for m in missing if "position_ids" not in m], missing
    for q in base.parameters():
        q.requires_grad_(False)
    train = {k: torch.tensor(v, requires_grad=True) for k, v in t.items()
             if not k.startswith("grad.") and ".adapter_fusion_layer." in k}
    return c, t, base, train


def run(path):
    c, t, base, train = frozen_base(path)
    p = {k: torch.tensor(v) for k, v in t.items() if ".adapters." in k or k.startswith("heads.")}
    p.update(train)
    langs = LANGS[:c["nlang"]]
    for i, layer in enumerate(base.encoder.layer):
        layer.output.forward = fused_output(layer.output.dense, layer.output.LayerNorm, p, i, langs)
    ids = torch.tensor(t["in.ids"]).long()
    am = torch.tensor(t["in.am"])
    hid = base(ids, am)
    task = c["task"]
    what = "%s N=%d" % (task, len(langs))
    if task == "pos":
        lab = t["in.labels"].astype(int)
        rows = torch.stack([hid[b, s] for b in range(lab.shape[0]) for s in range(lab.shape[1]) if lab[b, s] >= 0])
        gold = torch.tensor([x for x in lab.reshape(-1) if x >= 0]).long()
        logits = F.linear(rows, p["heads.t.1.weight"], p["heads.t.1.bias"])
        loss = F.cross_entropy(logits, gold)
    else:
        x = torch.tanh(F.linear(hid[:, 0], p["heads.t.1.weight"], p["heads.t.1.bias"]))
        logits = F.linear(x, p["heads.t.4.weight"], p["heads.t.4.bias"])
        loss = F.cross_entropy(logits, torch.tensor(t["in.cls"]).long())
    C = hid.shape[-1]
    reg = sum(0.01 * (torch.eye(C) - v).pow(2).sum() for k, v in train.items() if k.endswith(".value.weight"))
    (loss + reg).backward()
    ref.check("%s logits" % what, t["out.logits"], logits.detach().numpy())
    ref.check("%s loss" % what, t["out.loss"], [loss.item()])
    ref.check("%s loss + reg" % what, t["out.loss_reg"], [(loss + reg).item()])
    for k, v in sorted(train.items()):
        g = v.grad.numpy()
        # key.bias: 0 in exact arithmetic (the softmax is shift-invariant)
        absolute = 1e-6 if k.endswith("key.bias") else None
        if absolute is not None:
            assert np.max(np.abs(g)) < 1e-9, (k, np.max(np.abs(g)))
        ref.check("%s grad %s" % (what, k), t["grad." + k], g, absolute=absolute)


def main():
    d = sys.argv[1]
    for case in ("pos2", "pos3", "nli3"):
        run(os.path.join(d, case + ".xfts"))
    if ref.failures:
        print("%d comparisons failed" % len(ref.failures))
        sys.exit(1)
    print("all comparisons within tolerance")


if __name__ == "__main__":
    main()
