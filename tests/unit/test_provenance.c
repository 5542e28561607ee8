/* Unit tests of lib/run/provenance.c: the HEAD "provenance" object (round
 * trip, bad values), the base model's name, the provenance of finetuned
 * models, language adapters and fusions, and the eval-row labels xf-eval
 * derives from them (flags win, contradictions warn, usage errors). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_io.h"
#include "provenance.h"
#include "testutil.h"
#include "util.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    cr_assert(j, "bad test JSON: %s", e.text);
    return j;
}

static char *dump(const xf_prov *p)
{
    json_t *j = xf_prov_to_json(p);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

Test(provenance, join_langs_sorted_distinct)
{
    const char *v[] = {"yor", "wol", "yor", NULL, "bam", "wol"};
    char *s = xf_prov_join_langs(v, 6);
    cr_assert_str_eq(s, "bam+wol+yor");
    free(s);
    s = xf_prov_join_langs(v, 1);
    cr_assert_str_eq(s, "yor");
    free(s);
    s = xf_prov_join_langs(v, 0);
    cr_assert_str_eq(s, "");
    free(s);
}

Test(provenance, round_trip)
{
    json_t *head = parse("{\"kind\":\"model\",\"provenance\":{\"model\":\"mbert\",\"setting\":\"mlm\","
                         "\"transfer\":\"wol+yor\",\"steps\":10,\"run\":3,\"future\":[1],"
                         "\"from\":{\"model\":\"mbert\",\"setting\":\"mlm\"}}}");
    xf_prov p;
    cr_assert_eq(xf_prov_read(&p, head, "h"), 1);
    cr_assert_str_eq(p.model, "mbert");
    cr_assert_eq(p.setting, XF_SET_MLM);
    cr_assert_str_eq(p.transfer, "wol+yor");
    cr_assert_eq(p.steps, 10);
    cr_assert_eq(p.run, 3);
    cr_assert_null(p.adapters);
    cr_assert_not_null(p.from);
    char *s = dump(&p);
    /* unknown keys are dropped, the rest kept in a fixed order */
    cr_assert_str_eq(s, "{\"model\":\"mbert\",\"setting\":\"mlm\",\"transfer\":\"wol+yor\",\"steps\":10,"
                        "\"run\":3,\"from\":{\"model\":\"mbert\",\"setting\":\"mlm\"}}");
    free(s);
    xf_prov_free(&p);
    json_decref(head);
}

Test(provenance, absent_is_unknown)
{
    json_t *head = parse("{\"kind\":\"model\"}");
    xf_prov p;
    cr_assert_eq(xf_prov_read(&p, head, "h"), 0);
    cr_assert_null(p.model);
    cr_assert_eq(p.setting, -1);
    cr_assert_eq(p.steps, -1);
    cr_assert_eq(p.run, -1);
    cr_assert_eq(xf_prov_read(&p, NULL, "h"), 0);
    char *s = dump(&p);
    cr_assert_str_eq(s, "{}");
    free(s);
    json_decref(head);
}

static void read_text(const char *prov)
{
    char buf[512];
    snprintf(buf, sizeof buf, "{\"kind\":\"model\",\"provenance\":%s}", prov);
    json_t *head = parse(buf);
    xf_prov p;
    xf_prov_read(&p, head, "h");
}

Test(provenance, steps_not_integer_dies, .exit_code = 1) { read_text("{\"steps\":\"ten\"}"); }
Test(provenance, negative_run_dies, .exit_code = 1) { read_text("{\"run\":-1}"); }
Test(provenance, unknown_setting_dies, .exit_code = 1) { read_text("{\"setting\":\"ft\"}"); }
Test(provenance, empty_list_part_dies, .exit_code = 1) { read_text("{\"transfer\":\"wol++yor\"}"); }
Test(provenance, white_space_dies, .exit_code = 1) { read_text("{\"model\":\"m bert\"}"); }
Test(provenance, not_an_object_dies, .exit_code = 1) { read_text("[1]"); }

static xf_config config_with(const char *json)
{
    xf_config c;
    memset(&c, 0, sizeof c);
    c.json = parse(json);
    return c;
}

Test(provenance, model_name_order)
{
    xf_config none = config_with("{}");
    xf_config np = config_with("{\"_name_or_path\":\"/hub/bert-base-multilingual-cased/\"}");
    xf_config np2 = config_with("{\"name_or_path\":\"xlm-roberta-base\"}");
    xf_prov rec;
    xf_prov_init(&rec);
    rec.model = xstrdup("mbert");
    struct { const char *path; xf_config *c; xf_prov *r; const char *want; } t[] = {
        {"runs/base/", &np, &rec, "bert-base-multilingual-cased"},   /* 1: the config */
        {"runs/base/", &np2, NULL, "xlm-roberta-base"},
        {"ft.xfts", &none, &rec, "mbert"},                           /* 2: recorded */
        {"-", &none, &rec, "mbert"},
        {"runs/base/", &none, NULL, "base"},                         /* 3: the path */
        {"out/ft.step10.xfts", &none, NULL, "ft"},
        {"my model", &none, NULL, "my_model"},
        {"-", &none, NULL, "model"},                                 /* 4 */
        {"-", NULL, NULL, "model"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char *s = xf_prov_model_name(t[i].path, t[i].c, t[i].r);
        cr_assert_str_eq(s, t[i].want, "case %zu: %s, want %s", i, s, t[i].want);
        free(s);
    }
    xf_prov_free(&rec);
    json_decref(none.json);
    json_decref(np.json);
    json_decref(np2.json);
}

Test(provenance, mlm_chain_keeps_base_name_and_history)
{
    xf_prov base, ft, ft2, res;
    xf_prov_init(&base);
    base.model = xstrdup("mbert");
    xf_prov_mlm(&ft, &base, "yor", 10, 3, 0);
    char *s = dump(&ft);
    cr_assert_str_eq(s, "{\"model\":\"mbert\",\"setting\":\"mlm\",\"transfer\":\"yor\",\"steps\":10,\"run\":3}");
    free(s);
    xf_prov_mlm(&ft2, &ft, "wol", 2, 5, 0);
    s = dump(&ft2);
    cr_assert_str_eq(s, "{\"model\":\"mbert\",\"setting\":\"mlm\",\"transfer\":\"wol\",\"steps\":2,\"run\":5,"
                        "\"from\":{\"model\":\"mbert\",\"setting\":\"mlm\",\"transfer\":\"yor\",\"steps\":10,\"run\":3}}");
    free(s);
    /* resuming a checkpoint of ft2's run: same history, not one more level */
    xf_prov_mlm(&res, &ft2, "wol", 4, 5, 1);
    s = dump(&res);
    cr_assert_str_eq(s, "{\"model\":\"mbert\",\"setting\":\"mlm\",\"transfer\":\"wol\",\"steps\":4,\"run\":5,"
                        "\"from\":{\"model\":\"mbert\",\"setting\":\"mlm\",\"transfer\":\"yor\",\"steps\":10,\"run\":3}}");
    free(s);
    xf_prov_free(&res);
    /* resuming a run from --init stays a base */
    xf_prov nb;
    xf_prov_new_base(&nb);
    xf_prov_mlm(&res, &nb, "eng", 4, 5, 1);
    cr_assert_eq(res.setting, XF_SET_BASE);
    cr_assert_null(res.transfer);
    xf_prov_free(&res);
    xf_prov_free(&nb);
    xf_prov_free(&base);
    xf_prov_free(&ft);
    xf_prov_free(&ft2);
}

Test(provenance, lang_adapter_and_fusion)
{
    xf_prov base, eng, hin, fus;
    xf_prov_init(&base);
    base.model = xstrdup("xlmr");
    xf_prov_lang_adapter(&eng, &base, "eng", "english");
    char *s = dump(&eng);
    cr_assert_str_eq(s, "{\"model\":\"xlmr\",\"setting\":\"lang\",\"adapters\":\"eng\",\"lang\":\"eng\","
                        "\"name\":\"english\"}");
    free(s);
    xf_prov_lang_adapter(&hin, &base, "hin", NULL);
    cr_assert_str_eq(hin.name, "hin");
    /* the third adapter records nothing (an AdapterHub folder): its name */
    const xf_prov *ad[] = {&eng, &hin, NULL};
    const char *names[] = {"english", "hin", "zho"};
    xf_prov_fusion(&fus, &base, ad, names, 3);
    s = dump(&fus);
    cr_assert_str_eq(s, "{\"model\":\"xlmr\",\"setting\":\"lang\",\"adapters\":\"eng+hin+zho\"}");
    free(s);
    xf_prov_free(&fus);
    xf_prov_free(&eng);
    xf_prov_free(&hin);
    xf_prov_free(&base);
}

Test(provenance, put_fusion_one_call)
{
    /* two xf-adapt language adapters and an AdapterHub folder (no provenance) */
    xf_adapter_file f[3];
    memset(f, 0, sizeof f);
    f[0].head = parse("{\"provenance\":{\"setting\":\"lang\",\"adapters\":\"eng\",\"lang\":\"eng\"}}");
    strcpy(f[0].name, "english");
    f[1].head = parse("{\"provenance\":{\"lang\":\"hin\",\"name\":\"hi\"}}");
    strcpy(f[1].name, "hi");
    f[2].head = parse("{\"adapter\":{\"name\":\"zho\"}}");
    strcpy(f[2].name, "zho");
    const xf_adapter_file *fp[] = {&f[0], &f[1], &f[2]};
    xf_prov base;
    xf_prov_init(&base);
    base.model = xstrdup("xlmr");
    json_t *extra = json_object();
    xf_prov_put_fusion(extra, &base, fp, 3);
    char *s = json_dumps(json_object_get(extra, "provenance"), JSON_COMPACT);
    cr_assert_str_eq(s, "{\"model\":\"xlmr\",\"setting\":\"lang\",\"adapters\":\"eng+hin+zho\"}");
    free(s);
    /* ... and xf-eval reads it back as one language-side stream */
    xf_prov fus, m;
    cr_assert_eq(xf_prov_read(&fus, extra, "fusion"), 1);
    xf_prov_init(&m);
    m.model = xstrdup("xlmr");
    const xf_prov *fa[] = {&fus};
    const char *fn[] = {"fusion"};
    xf_label_flags none = {NULL, -1, NULL, -1, -1};
    xf_labels l;
    xf_prov_labels(&l, &none, &m, fa, fn, 1);
    cr_assert_eq(l.setting, XF_SET_LANG);
    cr_assert_str_eq(l.adapters, "eng+hin+zho");
    xf_labels_free(&l);
    xf_prov_free(&m);
    xf_prov_free(&fus);
    json_decref(extra);
    xf_prov_free(&base);
    for (int k = 0; k < 3; k++) json_decref(f[k].head);
}

static const xf_label_flags NOFLAGS = {NULL, -1, NULL, -1, -1};

static void mlm_model(xf_prov *m)
{
    xf_prov base;
    xf_prov_init(&base);
    base.model = xstrdup("mbert");
    xf_prov_mlm(m, &base, "yor", 10, 3, 0);
    xf_prov_free(&base);
}

Test(provenance, labels_from_provenance)
{
    xf_prov m;
    mlm_model(&m);
    xf_labels l;
    xf_prov_labels(&l, &NOFLAGS, &m, NULL, NULL, 0);
    cr_assert_str_eq(l.model, "mbert");
    cr_assert_eq(l.setting, XF_SET_MLM);
    cr_assert_str_eq(l.transfer, "yor");
    cr_assert_eq(l.steps, 10);
    cr_assert_eq(l.run, 3);
    cr_assert_str_eq(l.adapters, "-");
    xf_labels_free(&l);
    xf_prov_free(&m);
    /* nothing recorded: base, as before */
    xf_prov_init(&m);
    m.model = xstrdup("base");
    m.model_guessed = 1;
    xf_prov_labels(&l, &NOFLAGS, &m, NULL, NULL, 0);
    cr_assert_eq(l.setting, XF_SET_BASE);
    cr_assert_str_eq(l.transfer, "-");
    cr_assert_eq(l.steps, 0);
    cr_assert_eq(l.run, 0);
    xf_labels_free(&l);
    /* old stream, labels from flags (--steps 0 with base is accepted, as before) */
    xf_label_flags f = {"mbert", XF_SET_MLM, "wol", 100, 2};
    xf_prov_labels(&l, &f, &m, NULL, NULL, 0);
    cr_assert_str_eq(l.model, "mbert");
    cr_assert_str_eq(l.transfer, "wol");
    cr_assert_eq(l.steps, 100);
    cr_assert_eq(l.run, 2);
    xf_labels_free(&l);
    xf_label_flags zero = {NULL, -1, NULL, 0, 0};
    xf_prov_labels(&l, &zero, &m, NULL, NULL, 0);
    cr_assert_eq(l.setting, XF_SET_BASE);
    xf_labels_free(&l);
    xf_prov_free(&m);
}

Test(provenance, labels_lang_from_adapters)
{
    xf_prov m, base, yor, fus;
    xf_prov_init(&m);
    m.model = xstrdup("mbert");
    xf_prov_init(&base);
    xf_prov_lang_adapter(&yor, &base, "yor", "yoruba");
    const xf_prov *ad[] = {&yor};
    const char *names[] = {"yoruba"};
    xf_labels l;
    xf_prov_labels(&l, &NOFLAGS, &m, ad, names, 1);
    cr_assert_eq(l.setting, XF_SET_LANG);
    cr_assert_str_eq(l.adapters, "yor");
    cr_assert_str_eq(l.transfer, "-");
    xf_labels_free(&l);
    /* no provenance: the adapter's name, as before */
    const xf_prov *none[] = {NULL};
    xf_prov_labels(&l, &NOFLAGS, &m, none, names, 1);
    cr_assert_str_eq(l.adapters, "yoruba");
    xf_labels_free(&l);
    /* a fusion stands for all its adapters */
    xf_prov_init(&fus);
    fus.setting = XF_SET_LANG;
    fus.adapters = xstrdup("eng+hin+zho");
    const xf_prov *fa[] = {&fus};
    const char *fn[] = {"fusion"};
    xf_prov_labels(&l, &NOFLAGS, &m, fa, fn, 1);
    cr_assert_str_eq(l.adapters, "eng+hin+zho");
    xf_labels_free(&l);
    xf_prov_free(&fus);
    xf_prov_free(&yor);
    xf_prov_free(&base);
    xf_prov_free(&m);
}

/* Runs the labels of a finetuned model under FLAGS in a child, stderr to a
 * file; returns what it wrote. */
static const xf_label_flags *child_flags;
static void labels_child(void *ctx)
{
    xf_prov m;
    mlm_model(&m);
    xf_labels l;
    xf_prov_labels(&l, child_flags, &m, NULL, NULL, 0);
    fprintf(stderr, "=> %s %s %s %ld %ld\n", l.model, xf_setting_name(l.setting), l.transfer,
            l.steps, l.run);
    fflush(NULL);   /* the child leaves through _exit */
}

static char *stderr_of(const xf_label_flags *f, int *status)
{
    char dir[64];
    make_temp_dir(dir, "/tmp/xf-test-prov-XXXXXX");
    char *err = path_in_dir(dir, "err");
    child_flags = f;
    *status = run_in_child(labels_child, NULL, err);
    FILE *fp = fopen(err, "r");
    cr_assert(fp);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = 0;
    fclose(fp);
    remove_temp_dir(dir);
    return buf;
}

Test(provenance, flags_override_with_warning)
{
    int st;
    xf_label_flags f = {"other", -1, "wol", 5, -1};
    char *e = stderr_of(&f, &st);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", e);
    cr_assert(strstr(e, "warning: --model-name other contradicts the model's provenance (model mbert)"), "%s", e);
    cr_assert(strstr(e, "warning: --transfer wol contradicts the model's provenance (transfer yor)"), "%s", e);
    cr_assert(strstr(e, "warning: --steps 5 contradicts the model's provenance (steps 10)"), "%s", e);
    cr_assert(strstr(e, "=> other mlm wol 5 3\n"), "%s", e);   /* run: recorded */
    /* agreeing flags: silent */
    xf_label_flags same = {"mbert", XF_SET_MLM, "yor", 10, 3};
    e = stderr_of(&same, &st);
    cr_assert_str_eq(e, "=> mbert mlm yor 10 3\n");
    /* --setting base on a finetuned model: warning, base labels */
    xf_label_flags base = {NULL, XF_SET_BASE, NULL, -1, -1};
    e = stderr_of(&base, &st);
    cr_assert(strstr(e, "warning: --setting base contradicts the model's provenance (setting mlm)"), "%s", e);
    cr_assert(strstr(e, "=> mbert base - 0 0\n"), "%s", e);
}

Test(provenance, mlm_without_transfer_is_usage_error, .exit_code = 2)
{
    xf_prov m;
    xf_prov_init(&m);
    m.model = xstrdup("base");
    xf_label_flags f = {NULL, XF_SET_MLM, NULL, 10, -1};
    xf_labels l;
    xf_prov_labels(&l, &f, &m, NULL, NULL, 0);
}

Test(provenance, transfer_outside_mlm_is_usage_error, .exit_code = 2)
{
    xf_prov m;
    xf_prov_init(&m);
    xf_label_flags f = {NULL, XF_SET_BASE, "yor", -1, -1};
    xf_labels l;
    xf_prov_labels(&l, &f, &m, NULL, NULL, 0);
}
