"""PyTorch parity of xf's adapter layers and task heads, in isolation.

Reads the dump of tests/torch/heads_driver.c (inputs, outputs, gradients),
recomputes everything with torch autograd in float64 following the
AdapterHub adapter-transformers 3.1 modules (Pfeiffer SeqBn adapter with
original_ln_before/after and residual_before_ln, Stack, NICECouplingBlock,
TaggingHead, ClassificationHead, QuestionAnsweringHead, BiaffineParsingHead)
and checks max|xf - torch| <= 1e-4 * max|torch| per tensor (relative to the
tensor's largest element, at least 1e-3), and the decoded heads / relations exactly.
Usage: heads.py DUMPDIR
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
EPS = 1e-12
TOL = 1e-4

d = sys.argv[1]
arr = {}
for line in open(f"{d}/manifest.tsv"):
    name, typ, *dims = line.split("\t")
    shape = [int(x) for x in dims if int(x) > 0]
    a = np.fromfile(f"{d}/{name}.bin", dtype=np.float32 if typ == "f32" else np.int32)
    arr[name] = a.reshape(shape)

failures = []
checked = 0


def T(name, grad=False):
    a = arr[name]
    t = torch.tensor(a.astype(np.float64) if a.dtype == np.float32 else a.astype(np.int64))
    if grad:
        t.requires_grad_(True)
    return t


def check(what, xf_name, ref):
    global checked
    checked += 1
    got = torch.tensor(arr[xf_name].astype(np.float64)).reshape(ref.shape)
    ref = ref.detach()
    err = (got - ref).abs().max().item()
    # floor: tensors that are zero in exact arithmetic (the QA bias gradient,
    # a sum of softmax - one-hot) are compared to 1e-7 absolute
    scale = max(ref.abs().max().item(), 1e-3)
    status = "ok" if err <= TOL * scale else "FAIL"
    print(f"{status:4} {what:28} max abs err {err:.3e} (scale {scale:.3g})")
    if status != "ok":
        failures.append(what)


# ---- Pfeiffer adapter, Stack ----
for depth in (1, 2):
    p = f"ad{depth}_"
    h, x = T(p + "h", True), T(p + "x", True)
    lw, lb = T(p + "ln_w", True), T(p + "ln_b", True)
    ad = []
    for k in range(depth):
        ad.append([T(f"{p}{k}_{n}", True) for n in ("down_w", "down_b", "up_w", "up_b")])
    C = h.shape[1]

    def ln(v):
        return F.layer_norm(v, (C,), lw, lb, EPS)

    # adapter_stack: pre_forward (residual = hidden before LN, LN(h + x)), adapter, then next
    hidden = h
    for dw, db, uw, ub in ad:
        residual = hidden
        a = ln(hidden + x)
        hidden = F.linear(F.relu(F.linear(a, dw, db)), uw, ub) + residual
    y = ln(hidden + x)
    (y * T(p + "r")).sum().backward()
    check(f"adapter{depth} y", p + "y", y)
    check(f"adapter{depth} dh", p + "dh", h.grad)
    check(f"adapter{depth} dx", p + "dx", x.grad)
    check(f"adapter{depth} dln_w", p + "dln_w", lw.grad)
    check(f"adapter{depth} dln_b", p + "dln_b", lb.grad)
    for k, ps in enumerate(ad):
        for n, t in zip(("down_w", "down_b", "up_w", "up_b"), ps):
            check(f"adapter{depth}[{k}] d{n}", f"{p}{k}_g_{n}", t.grad)

# ---- invertible adapter (NICECouplingBlock) ----
x0 = arr["inv_x"]
C = x0.shape[1]
C1, C2 = C // 2, C - C // 2
hF, hG = C1 // 2, C2 // 2


def inv_params():
    flat = T("inv_params")
    shapes = [(hF, C2), (hF,), (C1, hF), (C1,), (hG, C1), (hG,), (C2, hG), (C2,)]
    out, o = [], 0
    for s in shapes:
        n = int(np.prod(s))
        out.append(flat[o:o + n].reshape(s).clone().requires_grad_(True))
        o += n
    return out


def mlp(v, w0, b0, w2, b2):
    return F.linear(F.relu(F.linear(v, w0, b0)), w2, b2)


for rev in (False, True):
    ps = inv_params()
    Fp, Gp = ps[:4], ps[4:]
    x = T("inv_x", True)
    x1, x2 = x[:, :C1], x[:, C1:]
    if not rev:
        y1 = x1 + mlp(x2, *Fp)
        y2 = x2 + mlp(y1, *Gp)
    else:
        y2 = x2 - mlp(x1, *Gp)
        y1 = x1 - mlp(y2, *Fp)
    y = torch.cat((y1, y2), -1)
    (y * T("inv_r")).sum().backward()
    tag = "inverse" if rev else "forward"
    check(f"invadapter {tag} out", "inv_xi" if rev else "inv_y", y)
    check(f"invadapter {tag} din", "inv_dy" if rev else "inv_dx", x.grad)
    check(f"invadapter {tag} dparams", "inv_g_inv" if rev else "inv_g_fwd",
          torch.cat([q.grad.reshape(-1) for q in ps]))

# ---- heads ----
# tagging: Dropout(p=0 here) -> Linear on the first subword of each word
hid = T("hid", True)
w, b = T("tag_w", True), T("tag_b", True)
logits = F.linear(hid[T("tag_pos")], w, b)
loss = F.cross_entropy(logits, T("tag_gold"))
loss.backward()
check("tagging logits", "tag_logits", logits)
check("tagging loss", "tag_loss", loss.reshape(1))
check("tagging dhid", "tag_dhid", hid.grad)
check("tagging dW", "tag_g_w", w.grad)
check("tagging db", "tag_g_b", b.grad)

# classification: Dropout -> Linear(H,H) -> Tanh -> Dropout -> Linear(H,K) on [CLS]
hid = T("hid", True)
H = hid.shape[1]
flat = T("cls_params")
K = (flat.shape[0] - H * H - H) // (H + 1)
w1 = flat[:H * H].reshape(H, H).clone().requires_grad_(True)
b1 = flat[H * H:H * H + H].clone().requires_grad_(True)
w4 = flat[H * H + H:H * H + H + K * H].reshape(K, H).clone().requires_grad_(True)
b4 = flat[H * H + H + K * H:].clone().requires_grad_(True)
logits = F.linear(torch.tanh(F.linear(hid[T("cls_rows")], w1, b1)), w4, b4)
loss = F.cross_entropy(logits, T("cls_gold"))
loss.backward()
check("classification logits", "cls_logits", logits)
check("classification loss", "cls_loss", loss.reshape(1))
check("classification dhid", "cls_dhid", hid.grad)
check("classification dparams", "cls_grads", torch.cat([q.grad.reshape(-1) for q in (w1, b1, w4, b4)]))

# QA: Linear(H,2) -> start/end logits per window; (CE start + CE end) / 2
hid = T("hid", True)
w, b = T("qa_w", True), T("qa_b", True)
base, ln_, st, en = T("qa_base"), T("qa_len"), T("qa_start"), T("qa_end")
seq = torch.stack([hid[base[i]:base[i] + ln_[i]] for i in range(len(base))])   # equal lengths
lg = F.linear(seq, w, b)
start_logits, end_logits = lg[..., 0], lg[..., 1]
loss = (F.cross_entropy(start_logits, st) + F.cross_entropy(end_logits, en)) / 2
loss.backward()
got_logits = torch.tensor(arr["qa_logits"].astype(np.float64))
ref_logits = torch.zeros_like(got_logits)
for i in range(len(base)):
    ref_logits[base[i]:base[i] + ln_[i]] = lg[i].detach()
check("qa logits", "qa_logits", ref_logits)
check("qa loss", "qa_loss", loss.reshape(1))
check("qa dhid", "qa_dhid", hid.grad)
check("qa dW", "qa_g_w", w.grad)
check("qa db", "qa_g_b", b.grad)


# biaffine (adapters Biaffine: weight [n_out, n_in + bias_x, n_in + bias_y], zero init)
def biaffine(xv, W, yv, bias_x, bias_y):
    if bias_x:
        xv = torch.cat((xv, torch.ones_like(xv[..., :1])), -1)
    if bias_y:
        yv = torch.cat((yv, torch.ones_like(yv[..., :1])), -1)
    return torch.einsum("xi,oij,yj->oxy", xv, W, yv)


hid = T("hid", True)
Wa = T("bi_wa", True)
Wr = T("bi_wr", True)
meta = arr["bi_meta"]
arc_rows, arc_gold, rel_rows, rel_gold = [], [], [], []
arc1 = None
for k in range(2):
    base_k, n = int(meta[2 * k]), int(meta[2 * k + 1])
    st, en = arr[f"bi_st{k + 1}"], arr[f"bi_en{k + 1}"]
    heads, rels = T(f"bi_hd{k + 1}"), T(f"bi_rl{k + 1}")
    deps = torch.stack([hid[base_k + st[i]:base_k + en[i]].mean(0) for i in range(n)])   # _merge_subwords
    cand = torch.cat((hid[base_k].unsqueeze(0), deps), 0)                              # [CLS] = root
    arc = biaffine(deps, Wa.unsqueeze(0), cand, True, False).squeeze(0)               # [n, n+1]
    rel = biaffine(deps, Wr, cand, True, True).permute(1, 2, 0)                        # [n, n+1, R]
    if k == 0:
        arc1 = arc.detach()
        rel1 = rel.detach()
    arc_rows += [F.log_softmax(arc[i], -1)[heads[i]] for i in range(n)]
    rs = rel[torch.arange(n), heads]
    rel_rows += [F.log_softmax(rs[i], -1)[rels[i]] for i in range(n)]
loss = -torch.stack(arc_rows).mean() - torch.stack(rel_rows).mean()
loss.backward()
check("biaffine loss", "bi_loss", loss.reshape(1))
check("biaffine dhid", "bi_dhid", hid.grad)
check("biaffine dW arcs", "bi_g_wa", Wa.grad)
check("biaffine dW rels", "bi_g_wr", Wr.grad)
n1 = arc1.shape[0]
full = torch.zeros(n1 + 1, n1 + 1)
full[1:] = arc1
check("biaffine arc scores", "bi_arc1", full)
pred_heads = arc1.argmax(-1)
pred_rels = rel1[torch.arange(n1), pred_heads].argmax(-1)
for what, name, ref in (("greedy heads", "bi_pred_heads1", pred_heads), ("relations at predicted head", "bi_pred_rels1", pred_rels)):
    checked += 1
    ok = np.array_equal(arr[name], ref.numpy())
    print(f"{'ok' if ok else 'FAIL':4} biaffine {what}: xf {arr[name].tolist()} torch {ref.tolist()}")
    if not ok:
        failures.append(what)

print(f"{checked} checks, {len(failures)} failed")
sys.exit(1 if failures else 0)
