/* train_adapter.c — the xf-adapt training loop (train_adapter.h). */
#include "train_adapter.h"
#include "rng.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

xf_train_opts xf_train_defaults(xf_task task)
{
    xf_train_opts o = { .batch = 36, .lr = 5e-4f, .epochs = 5, .seq = 256, .max_per_lang = 0,
                        .max_steps = 0, .warmup = 0, .weight_decay = 0, .clip = 1.0f,
                        .seed = 1, .eval = xf_eval_defaults() };
    switch (task) {
    case XF_TASK_DEP: o.batch = 12; break;
    case XF_TASK_NLI: o.batch = 32; o.lr = 5e-5f; o.seq = 128; break;
    case XF_TASK_QA: o.batch = 32; o.lr = 3e-5f; o.seq = 384; break;
    case XF_TASK_MLM: o.batch = 8; o.epochs = 3; break;   /* appendix E: language adapters */
    default: break;
    }
    return o;
}

size_t xf_examples_cap_per_lang(xf_example *ex, size_t n, long max)
{
    if (max <= 0) return n;
    /* first pass decides (language pointers stay valid), second compacts */
    const char **lang = xmalloc(sizeof *lang * (n ? n : 1));
    long *cnt = xcalloc(n ? n : 1, sizeof *cnt);
    char *keep = xcalloc(n ? n : 1, 1);
    size_t nl = 0, k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < nl && strcmp(lang[j], ex[i].lang)) j++;
        if (j == nl) lang[nl++] = ex[i].lang;
        if (cnt[j] < max) { cnt[j]++; keep[i] = 1; }
    }
    for (size_t i = 0; i < n; i++) {
        if (!keep[i]) { xf_ex_free(&ex[i]); continue; }
        if (k != i) { ex[k] = ex[i]; memset(&ex[i], 0, sizeof ex[i]); }
        k++;
    }
    free(lang); free(cnt); free(keep);
    return k;
}

static double primary_score(xf_taskmodel *m, xf_example *dev, size_t ndev, const xf_eval_opts *o)
{
    xf_eval_result r = xf_evaluate(m, dev, ndev, o);
    if (r.value[0].n == 0) die("validation set: nothing scored");
    return r.value[0].value;
}

xf_train_result xf_train_adapter(xf_taskmodel *m, xf_example *ex, size_t n, xf_example *dev,
                                 size_t ndev, const xf_train_opts *o)
{
    xf_train_result res = { .best_score = NAN };
    if (n == 0) die("no training examples");
    if (o->batch <= 0 || o->epochs <= 0) die("batch and epochs must be positive");
    for (size_t i = 0; i < n; i++) {
        if (ex[i].task != m->task)
            die("%s: training example of task %s, expected %s", ex[i].id,
                xf_task_name(ex[i].task), xf_task_name(m->task));
        if ((long)ex[i].n > o->seq) die("%s: %zu tokens, longer than --seq %d", ex[i].id, ex[i].n, o->seq);
    }
    /* a model with a trainable fusion trains the fusion only (xf-fuse) */
    int fusion = m->fuse && m->fuse[0].grads;
    if (fusion) xf_tm_enable_fusion_training(m);
    else xf_tm_enable_training(m);
    /* dep rows of split sentences (a head in another row) cannot be scored: leave them out */
    size_t *idx = xmalloc(sizeof *idx * n), nuse = 0;
    for (size_t i = 0; i < n; i++) {
        int ok = 1;
        if (m->task == XF_TASK_DEP) {
            if (!ex[i].heads || !ex[i].nwords) ok = 0;
            for (size_t w = 0; ok && w < ex[i].nwords; w++)
                if (ex[i].heads[w] < 0) ok = 0;
        }
        if ((m->task == XF_TASK_POS || m->task == XF_TASK_NER) && !ex[i].has_labels)
            die("%s: training example without labels", ex[i].id);
        if (ok) idx[nuse++] = i;
    }
    if (nuse < n) warning("%zu training example(s) of split sentences left out", n - nuse);
    if (!nuse) die("no usable training examples");
    long per_epoch = (long)((nuse + (size_t)o->batch - 1) / (size_t)o->batch);
    long total = per_epoch * o->epochs;
    if (o->max_steps > 0 && o->max_steps < total) total = o->max_steps;
    xf_adamw opt = xf_adamw_defaults();
    opt.weight_decay = o->weight_decay;
    const xf_example **batch = xmalloc(sizeof *batch * (size_t)o->batch);
    size_t *perm = xmalloc(sizeof *perm * nuse);
    float *best = NULL;
    double best_score = -INFINITY;
    double t0 = xf_now();
    long step = 0;
    for (int epoch = 0; epoch < o->epochs && step < total; epoch++) {
        memcpy(perm, idx, sizeof *perm * nuse);
        xf_rng r;
        xf_rng_seed(&r, xf_hash64(o->seed, XF_STREAM_SHUFFLE, (uint64_t)epoch), XF_STREAM_SHUFFLE);
        xf_rng_shuffle(&r, perm, nuse, sizeof *perm);
        double esum = 0;
        long esteps = 0;
        for (size_t a = 0; a < nuse && step < total; a += (size_t)o->batch) {
            int B = (int)(nuse - a < (size_t)o->batch ? nuse - a : (size_t)o->batch);
            for (int b = 0; b < B; b++) {
                batch[b] = &ex[perm[a + (size_t)b]];
                res.tokens += (double)batch[b]->n;
            }
            xf_tm_zero_grads(m);
            uint64_t ds = xf_hash64(o->seed, XF_STREAM_DROPOUT, (uint64_t)step);
            float loss = xf_tm_forward(m, batch, B, 1, ds, 1);
            if (fusion) loss += (float)xf_tm_fusion_reg(m);   /* 0.01·‖I − V‖² per layer */
            if (!isfinite(loss))
                die("step %ld: the loss is %g on the batch of example %s (lang %s) and %d more "
                    "(check the model's weights and --lr)", step + 1, loss, batch[0]->id,
                    batch[0]->lang, B - 1);
            float scale = 1.0f;
            if (o->clip > 0) {
                double norm = sqrt(xf_tm_grad_sumsq(m));
                double coef = o->clip / (norm + 1e-6);   /* torch clip_grad_norm_ */
                if (coef < 1.0) scale = (float)coef;
            }
            float lr = (float)(o->lr * xf_linear_schedule(step, o->warmup, total));
            if (xf_tm_adamw(m, &opt, lr, step + 1, scale))
                die("step %ld: non-finite weights after the update on the batch of example %s "
                    "(lang %s) and %d more (check --lr)", step + 1, batch[0]->id, batch[0]->lang, B - 1);
            step++;
            esum += loss;
            esteps++;
            if (xf_progress_enabled())
                fprintf(stderr, "\r%s: epoch %d/%d step %ld/%ld loss %.4f   ", xf_progname,
                        epoch + 1, o->epochs, step, total, loss);
            xf_info(2, "step %ld loss %.6f lr %.3g", step, loss, lr);
        }
        double mean = esteps ? esum / esteps : NAN;
        if (epoch == 0) res.first_loss = mean;
        res.last_loss = mean;
        if (ndev) {
            double s = primary_score(m, dev, ndev, &o->eval);
            xf_info(xf_progress_enabled() ? 1 : 2, "%sepoch %d: loss %.4f, validation %.4f",
                    xf_progress_enabled() ? "\n" : "", epoch + 1, mean, s);
            if (s > best_score) {
                best_score = s;
                res.best_epoch = epoch + 1;
                if (!best) best = xmalloc(sizeof(float) * (m->ntrain ? m->ntrain : 1));
                for (int i = 0; i < m->npar; i++)
                    memcpy(best + m->par[i].off, m->par[i].data, sizeof(float) * m->par[i].n);
            }
        }
    }
    if (xf_progress_enabled()) fputc('\n', stderr);
    if (best) {
        for (int i = 0; i < m->npar; i++)
            memcpy(m->par[i].data, best + m->par[i].off, sizeof(float) * m->par[i].n);
        res.best_score = best_score;
    }
    res.steps = step;
    res.seconds = xf_now() - t0;
    free(best); free(perm); free(batch); free(idx);
    return res;
}

xf_train_result xf_train_lang_adapter(xf_taskmodel *m, const xf_mlm_data *d,
                                      const xf_train_opts *o, float mlm_prob)
{
    xf_train_result res = { .best_score = NAN };
    if (d->n == 0) die("no training rows");
    int fusion = m->fuse && m->fuse[0].grads;   /* xf-fuse: the fusion only, on MLM */
    if (m->task != XF_TASK_MLM || (!m->task_ad && !fusion))
        die("language adapter training needs an mlm task model with an adapter or a trainable fusion");
    if (fusion) xf_tm_enable_fusion_training(m);
    else xf_tm_enable_training(m);
    long per_epoch = (long)((d->n + (size_t)o->batch - 1) / (size_t)o->batch);
    long total = per_epoch * o->epochs;
    if (o->max_steps > 0 && o->max_steps < total) total = o->max_steps;
    xf_adamw opt = xf_adamw_defaults();
    opt.weight_decay = o->weight_decay;
    int B = o->batch, T = d->maxlen;
    int32_t *ids = xmalloc(sizeof(int32_t) * (size_t)B * T), *lab = xmalloc(sizeof(int32_t) * (size_t)B * T);
    int32_t *am = xmalloc(sizeof(int32_t) * (size_t)B * T), *pos = xmalloc(sizeof(int32_t) * (size_t)B * T);
    int32_t *plab = xmalloc(sizeof(int32_t) * (size_t)B * T);
    int pad = xf_encoder_dims(m->enc)->pad_id;
    double t0 = xf_now(), esum = 0;
    long esteps = 0;
    for (long step = 0; step < total; step++) {
        int Tb = 0;
        size_t ex[4096];
        if (B > 4096) die("--batch above 4096");
        for (int b = 0; b < B; b++) {
            ex[b] = xf_mlm_order(d, o->seed, (uint64_t)step * B + (uint64_t)b);
            if (d->len[ex[b]] > Tb) Tb = d->len[ex[b]];
        }
        int M = 0;
        for (int b = 0; b < B; b++) {
            int n = d->len[ex[b]];
            int32_t *in = ids + (size_t)b * Tb, *lb = lab + (size_t)b * Tb;
            xf_mlm_mask_row(in, lb, d->ids[ex[b]], n, d, mlm_prob, o->seed, step, b);
            for (int t = 0; t < Tb; t++) {
                am[b * Tb + t] = t < n;
                if (t >= n) { in[t] = pad; lb[t] = -100; }
                if (lb[t] != -100) { pos[M] = b * Tb + t; plab[M] = lb[t]; M++; }
            }
            res.tokens += n;
        }
        xf_tm_zero_grads(m);
        uint64_t ds = xf_hash64(o->seed, XF_STREAM_DROPOUT, (uint64_t)step);
        if (fusion)
            for (int l = 0; l < m->L; l++) m->fuse[l].drop_seed = ds;
        xf_encoder_forward(m->enc, ids, NULL, am, B, Tb, 1, ds);
        float loss = M ? xf_encoder_mlm_step(m->enc, pos, plab, M, 1, NULL) : 0;
        if (fusion) loss += (float)xf_tm_fusion_reg(m);   /* 0.01·‖I − V‖² per layer */
        if (!isfinite(loss))
            die("%s: step %ld: the loss is %g (check the model's weights and --lr)",
                d->path ? d->path : "examples", step + 1, loss);
        float scale = 1.0f;
        if (o->clip > 0) {
            double norm = sqrt(xf_tm_grad_sumsq(m));
            double coef = o->clip / (norm + 1e-6);
            if (coef < 1.0) scale = (float)coef;
        }
        float lr = (float)(o->lr * xf_linear_schedule(step, o->warmup, total));
        if (xf_tm_adamw(m, &opt, lr, step + 1, scale))
            die("%s: step %ld: non-finite weights after the update (check --lr)",
                d->path ? d->path : "examples", step + 1);
        esum += loss;
        esteps++;
        if ((step + 1) % per_epoch == 0 || step + 1 == total) {
            if (step + 1 <= per_epoch) res.first_loss = esum / esteps;
            res.last_loss = esum / esteps;
            esum = 0;
            esteps = 0;
        }
        if (xf_progress_enabled())
            fprintf(stderr, "\r%s: step %ld/%ld loss %.4f   ", xf_progname, step + 1, total, loss);
        xf_info(2, "step %ld loss %.6f lr %.3g", step + 1, loss, lr);
        res.steps = step + 1;
    }
    if (xf_progress_enabled()) fputc('\n', stderr);
    res.seconds = xf_now() - t0;
    free(ids); free(lab); free(am); free(pos); free(plab);
    return res;
}
