#define _GNU_SOURCE
/* test_unigram.c — Unigram (tokenizer.json) rules: Viterbi ties, unk
 * fusion, Metaspace variants, the normalizer chain, specials and
 * templates; synthetic files with hand-computed paths plus the real t5,
 * xlnet and pegasus files (ids looked up in their vocab lists). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "charsmap.h"
#include "tokenizer.h"
#include "util.h"
#include "zio.h"
#include "testutil.h"

/* Writes JSON to a temp file and loads it. */
static xf_tokenizer *load_json(const char *json)
{
    char path[] = "/tmp/xf-test-unigram-XXXXXX.json";
    int fd = mkstemps(path, 5);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, json, strlen(json)), (ssize_t)strlen(json));
    close(fd);
    xf_tokenizer *tk = xf_tok_load(path);
    unlink(path);
    return tk;
}

/* XLM-R-like layout: <s>=0 <pad>=1 </s>=2 <unk>=3 ... <mask> last; no
 * "type" key (old serialisation). */
#define VOCAB                                                                      \
    "[[\"<s>\",0],[\"<pad>\",0],[\"</s>\",0],[\"<unk>\",0],"                       \
    "[\"\\u2581\",-2],[\"\\u2581a\",-1],[\"b\",-3],[\"\\u2581ab\",-2.5],[\"c\",-4]," \
    "[\"\\u2581x\",-1],[\"x\",-0.5],[\"<mask>\",0]]"
#define ADDED                                                                      \
    "[{\"id\":0,\"content\":\"<s>\",\"special\":true},"                            \
    "{\"id\":1,\"content\":\"<pad>\",\"special\":true},"                           \
    "{\"id\":2,\"content\":\"</s>\",\"special\":true},"                            \
    "{\"id\":3,\"content\":\"<unk>\",\"special\":true},"                           \
    "{\"id\":11,\"content\":\"<mask>\",\"special\":true}]"
#define ROBERTA "{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",2],\"cls\":[\"<s>\",0]}"

static const char *SYNTH =
    "{\"added_tokens\":" ADDED ",\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},\"post_processor\":" ROBERTA ","
    "\"model\":{\"unk_id\":3,\"vocab\":" VOCAB "}}";

Test(unigram, viterbi_unk_fusion_offsets)
{
    xf_tokenizer *tk = load_json(
        "{\"added_tokens\":" ADDED ",\"normalizer\":null,"
        "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},"
        "{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"add_prefix_space\":true}]},"
        "\"post_processor\":" ROBERTA ",\"model\":{\"unk_id\":3,\"vocab\":" VOCAB "}}");
    cr_assert_eq(xf_tok_kind_of(tk), XF_TOK_UNIGRAM);
    cr_assert_eq(xf_tok_vocab_size(tk), 12);
    /* ▁ab (-2.5) beats ▁a + b (-4); "c" needs ▁ + c; "xyz" is ▁x then
     * y and z, unknown (-14 each = min -4 - 10), fused into one unk */
    const char *s = "ab c xyz";
    xf_tokens t = {0};
    xf_tok_encode(tk, s, strlen(s), &t);
    int32_t ids[] = {7, 4, 8, 9, 3};
    int32_t st[] = {0, 3, 3, 5, 6}, en[] = {2, 4, 4, 6, 8};
    cr_assert_eq(t.n, 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(t.ids[i], ids[i], "token %zu: %d", i, t.ids[i]);
        cr_assert_eq(t.start[i], st[i], "token %zu start %d", i, t.start[i]);
        cr_assert_eq(t.end[i], en[i], "token %zu end %d", i, t.end[i]);
    }
    /* "yz" alone: ▁ then one fused unk over both chars */
    xf_tokens_clear(&t);
    xf_tok_encode(tk, "yz", 2, &t);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.ids[0], 4);
    cr_assert_eq(t.ids[1], 3);
    cr_assert_eq(t.start[1], 0);
    cr_assert_eq(t.end[1], 2);
    xf_tokens_free(&t);
    /* specials are matched in the raw text; the template helpers */
    CHECK_TOKENS(tk, "<s>ab</s>", 0, 7, 2);
    xf_tok_special sp = xf_tok_specials(tk);
    cr_assert_eq(sp.cls, 0);
    cr_assert_eq(sp.sep, 2);
    cr_assert_eq(sp.pad, 1);
    cr_assert_eq(sp.unk, 3);
    cr_assert_eq(sp.mask, 11);
    cr_assert_eq(xf_tok_pair_double_sep(tk), 1);
    int32_t dec[] = {0, 7, 4, 8, 2};
    char *d = xf_tok_decode(tk, dec, 5, 1);
    cr_assert_str_eq(d, "ab c");
    free(d);
    xf_tok_free(tk);
}

Test(unigram, viterbi_ties_keep_the_first_path)
{
    /* ▁x = -1 and ▁ (-2) + x (-0.5) = -2.5: ▁x.  With ▁ at -0.5 the two
     * paths tie at -1 and the earlier-found one (▁x, set first) stays. */
    const char *tie =
        "{\"added_tokens\":[],\"normalizer\":null,"
        "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"add_prefix_space\":true},"
        "\"post_processor\":null,\"model\":{\"unk_id\":0,\"vocab\":"
        "[[\"<unk>\",0],[\"\\u2581\",-0.5],[\"\\u2581x\",-1],[\"x\",-0.5]]}}";
    xf_tokenizer *tk = load_json(tie);
    CHECK_TOKENS(tk, "x", 2);
    xf_tok_free(tk);
    tk = load_json(SYNTH);   /* WhitespaceSplit only: no ▁ at all */
    CHECK_TOKENS(tk, "x x", 10, 10);
    xf_tok_free(tk);
}

Test(unigram, metaspace_variants)
{
    const char *fmt =
        "{\"added_tokens\":[],\"normalizer\":null,"
        "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",%s},"
        "\"post_processor\":null,\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":"
        "[[\"<unk>\",0],[\"\\u2581\",-2],[\"\\u2581a\",-1],[\"a\",-1],[\"\\u2581b\",-1],[\"b\",-1]]}}";
    char json[2048];
    /* always: "a  b" -> ▁a ▁ ▁b (consecutive spaces keep a lone ▁) */
    snprintf(json, sizeof json, fmt, "\"prepend_scheme\":\"always\",\"split\":true");
    xf_tokenizer *tk = load_json(json);
    CHECK_TOKENS(tk, "a  b", 2, 1, 4);
    xf_tok_free(tk);
    /* never: no prefix */
    snprintf(json, sizeof json, fmt, "\"prepend_scheme\":\"never\",\"split\":true");
    tk = load_json(json);
    CHECK_TOKENS(tk, "a b", 3, 4);
    xf_tok_free(tk);
    /* first: only at offset 0 of the input */
    snprintf(json, sizeof json, fmt, "\"prepend_scheme\":\"first\",\"split\":true");
    tk = load_json(json);
    CHECK_TOKENS(tk, "a b", 2, 4);
    xf_tok_free(tk);
}

Test(unigram, t5_real_file)
{
    xf_tokenizer *tk = xf_tok_load(data_path("tokenizers/t5-small/tokenizer.json"));
    cr_assert_eq(xf_tok_vocab_size(tk), 32100);
    cr_assert_eq(xf_tok_specials(tk).unk, 2);
    cr_assert_eq(xf_tok_specials(tk).sep, 1);        /* "A </s>" */
    cr_assert_eq(xf_tok_pair_double_sep(tk), 0);
    CHECK_TOKENS(tk, "Hello world", 8774, 296);
    /* whitespace runs and edges vanish (WhitespaceSplit), offsets stay */
    const char *s = "  Hello \t world  ";
    xf_tokens t = {0};
    xf_tok_encode(tk, s, strlen(s), &t);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.ids[0], 8774);
    cr_assert_eq(t.start[0], 2);
    cr_assert_eq(t.end[0], 7);
    cr_assert_eq(t.ids[1], 296);
    cr_assert_eq(t.start[1], 10);
    cr_assert_eq(t.end[1], 15);
    xf_tokens_clear(&t);
    /* Amharic is unknown to t5: ▁ then ONE fused <unk> for the word */
    const char *am = "ሰላም";
    xf_tok_encode(tk, am, strlen(am), &t);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.ids[0], 3);
    cr_assert_eq(t.ids[1], 2);
    cr_assert_eq(t.start[1], 0);
    cr_assert_eq(t.end[1], 9);
    xf_tokens_free(&t);
    CHECK_TOKENS(tk, "café", 11949);                        /* ▁café, composed */
    CHECK_TOKENS(tk, "Hello</s>", 8774, 1);
    /* the precompiled charsmap (nmt_nfkc): full-width letters fold */
    char *n = xf_tok_normalize(tk, "ＡＢＣ", strlen("ＡＢＣ"));
    cr_assert_str_eq(n, "ABC");
    free(n);
    n = xf_tok_normalize(tk, "\xef\xac\x81", 3);      /* U+FB01 ﬁ */
    cr_assert_str_eq(n, "fi");
    free(n);
    xf_tok_free(tk);
}

Test(unigram, xlnet_normalizer_chain)
{
    xf_tokenizer *tk = xf_tok_load(data_path("tokenizers/xlnet-base-cased/tokenizer.json"));
    cr_assert_eq(xf_tok_specials(tk).unk, 0);
    cr_assert_eq(xf_tok_specials(tk).sep, 4);         /* "A <sep> <cls>" */
    cr_assert_eq(xf_tok_specials(tk).cls, 3);
    cr_assert_eq(xf_tok_specials(tk).mask, 6);
    cr_assert_eq(xf_tok_pair_double_sep(tk), 0);
    /* Replace `` and '' by ", NFKD, strip accents, charsmap */
    char *n = xf_tok_normalize(tk, "``café''", strlen("``café''"));
    cr_assert_str_eq(n, "\"cafe\"");
    free(n);
    CHECK_TOKENS(tk, "café", 10925);                         /* ▁cafe */
    CHECK_TOKENS(tk, "Hi world", 4036, 185);
    xf_tok_free(tk);
}

Test(unigram, pegasus_typed_model_and_regex_replace)
{
    xf_tokenizer *tk = xf_tok_load(
        data_path("tokenizers/pegasus-autonlp-reuters-summarization/tokenizer.json"));
    cr_assert_eq(xf_tok_specials(tk).unk, 105);
    char *n = xf_tok_normalize(tk, "a   b  c d", 10);
    cr_assert_str_eq(n, "a b c d");
    free(n);
    CHECK_TOKENS(tk, "Hello world", 8087, 278);
    xf_tok_free(tk);
}

Test(unigram, charsmap_lookups)
{
    /* the real nmt_nfkc map of t5: U+FB01 maps to "fi" */
    json_error_t err;
    json_t *j = json_load_file(data_path("tokenizers/t5-small/tokenizer.json"), 0, &err);
    cr_assert(j);
    const char *b64 = json_string_value(
        json_object_get(json_object_get(j, "normalizer"), "precompiled_charsmap"));
    cr_assert(b64);
    xf_charsmap *cm = xf_charsmap_from_base64(b64, "t5");
    json_decref(j);
    const char *rep;
    size_t rl, n;
    cr_assert(xf_charsmap_first(cm, "\xef\xac\x81x", 4, &rep, &rl));
    cr_assert_eq(rl, 2);
    cr_assert(memcmp(rep, "fi", 2) == 0);
    cr_assert_eq(xf_charsmap_longest(cm, "\xef\xac\x81x", 4, &rep, &rl), 3);
    cr_assert_eq(xf_charsmap_longest(cm, "abc", 3, &rep, &rl), 0);
    cr_assert(!xf_charsmap_first(cm, "abc", 3, &rep, &rl));
    char *o = xf_charsmap_normalize(cm, "x\xef\xbc\xa1y", 5, &n);   /* full-width A */
    cr_assert_str_eq(o, "xAy");
    cr_assert_eq(n, 3);
    free(o);
    xf_charsmap_free(cm);
}

Test(unigram, unsupported_model_dies, .exit_code = 1)
{
    load_json("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}");
}

Test(unigram, bad_charsmap_dies, .exit_code = 1)
{
    static const uint8_t blob[] = {0xff, 0xff, 0, 0, 1, 2, 3};
    xf_charsmap_new(blob, sizeof blob, "blob");
}

Test(unigram, metaspace_only_and_mask_lstrip)
{
    /* XLM-R style: Metaspace without WhitespaceSplit, <mask> with lstrip */
    const char *fmt =
        "{\"added_tokens\":[{\"id\":3,\"content\":\"<unk>\",\"special\":true},"
        "{\"id\":11,\"content\":\"<mask>\",\"special\":true,\"lstrip\":%s}],"
        "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\","
        "\"prepend_scheme\":\"always\",\"split\":true},\"post_processor\":null,"
        "\"model\":{\"type\":\"Unigram\",\"unk_id\":3,\"vocab\":" VOCAB "}}";
    char json[4096];
    snprintf(json, sizeof json, fmt, "true");
    xf_tokenizer *tk = load_json(json);
    CHECK_TOKENS(tk, "ab <mask>", 7, 11);                  /* the space goes with <mask> */
    xf_tokens t = {0};
    xf_tok_encode(tk, "ab <mask>", 9, &t);
    cr_assert_eq(t.start[1], 2);
    cr_assert_eq(t.end[1], 9);
    xf_tokens_free(&t);
    xf_tok_free(tk);
    snprintf(json, sizeof json, fmt, "false");
    tk = load_json(json);
    CHECK_TOKENS(tk, "ab <mask>", 7, 4, 11);               /* "ab " -> ▁ab ▁ */
    xf_tok_free(tk);
}

/* ---- hostile tokenizer.json files ---- */

static void load_ctx(void *ctx) { xf_tok_free(load_json(ctx)); }

/* Loads JSON in a child: exit 1 with WANT in its message. */
static void expect_load_error(const char *json, const char *want)
{
    char err[] = "/tmp/xf-test-unigram-err-XXXXXX";
    int fd = mkstemp(err);
    cr_assert(fd >= 0);
    close(fd);
    int st = run_in_child(load_ctx, (void *)json, err);
    size_t n;
    char *msg = xf_read_file(err, &n);
    unlink(err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d for %s", st, json);
    cr_assert(strstr(msg, want), "message '%s' lacks '%s'", msg, want);
    free(msg);
}

static char *with_added_and_post(const char *added, const char *post)
{
    char *j;
    cr_assert(asprintf(&j, "{\"added_tokens\":%s,\"normalizer\":null,\"pre_tokenizer\":"
                           "{\"type\":\"WhitespaceSplit\"},\"post_processor\":%s,"
                           "\"model\":{\"unk_id\":3,\"vocab\":" VOCAB "}}", added, post) > 0);
    return j;
}

Test(unigram, added_token_and_special_ids_bounded)
{
    /* an added id of 1e8 allocated a 1e8-entry table (46 s, 3.9 GB) */
    char *j = with_added_and_post("[{\"id\":100000000,\"content\":\"<x>\"}]", "null");
    expect_load_error(j, "added token 0: id is not an integer in [0, 13)");
    free(j);
    j = with_added_and_post("[{\"id\":2147483648,\"content\":\"<x>\"}]", "null");
    expect_load_error(j, "added token 0: id is not an integer in [0, 13)");
    free(j);
    j = with_added_and_post("[{\"id\":12,\"content\":\"<x>\"},{\"id\":12,\"content\":\"<y>\"}]", "null");
    expect_load_error(j, "id 12 appears twice");
    free(j);
    /* the post-processor's ids go into every row: in the vocabulary */
    j = with_added_and_post(ADDED, "{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",2],\"cls\":[\"<s>\",1000000]}");
    expect_load_error(j, "post_processor cls: id 1000000 is not a token id below the vocabulary size 12");
    free(j);
    j = with_added_and_post(ADDED, "{\"type\":\"RobertaProcessing\",\"sep\":[\"</s>\",4294967303],\"cls\":[\"<s>\",0]}");
    expect_load_error(j, "post_processor sep: id 4294967303 is not a token id");
    free(j);
    /* one past the model vocab per added token is fine */
    j = with_added_and_post("[{\"id\":3,\"content\":\"<unk>\",\"special\":true},"
                            "{\"id\":12,\"content\":\"<x>\",\"special\":true}]", ROBERTA);
    xf_tokenizer *tk = load_json(j);
    cr_assert_eq(xf_tok_vocab_size(tk), 13);
    CHECK_TOKENS(tk, "x<x>x", 10, 12, 10);
    xf_tok_free(tk);
    free(j);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 5000 added tokens on 200 KB of text took 6.9 s with a scan of every
 * added token per character; with the prefix map it takes milliseconds.
 * Here every character the encoder looks at starts an added token (runs of
 * '<' and whole "<t12>"), so the old scan compared most of 200 KB against
 * all 20,000 added tokens (36 s measured, where the earlier version of this
 * test, with '<' at 2 of 7 characters and 5000 tokens, took the old scan
 * 3 s); the map takes milliseconds.  The bound is generous (a loaded
 * machine); the matches are checked too:
 * longest match wins ("<t12>" over "<t1>"). */
Test(unigram, many_added_tokens_are_matched_fast, .timeout = 120)
{
    enum { NADD = 20000 };
    size_t cap = 1 << 20, o = 0;
    char *added = xmalloc(cap);
    o += (size_t)snprintf(added + o, cap - o, "[{\"id\":3,\"content\":\"<unk>\",\"special\":true}");
    for (int i = 0; i < NADD; i++)
        o += (size_t)snprintf(added + o, cap - o, ",{\"id\":%d,\"content\":\"<t%d>\"}", 12 + i, i);
    cr_assert(o + 2 < cap);
    snprintf(added + o, cap - o, "]");
    char *j = with_added_and_post(added, "null");
    xf_tokenizer *tk = load_json(j);
    cr_assert_eq(xf_tok_vocab_size(tk), 12 + NADD);
    static const char unit[] = "<<<<<<<<<<<t12>";   /* 11 '<' that match nothing, then <t12> */
    size_t ul = sizeof unit - 1, nunit = 200000 / ul, tl = nunit * ul;
    char *text = xmalloc(tl + 1);
    for (size_t i = 0; i < tl; i++) text[i] = unit[i % ul];
    text[tl] = 0;
    xf_tokens t = {0};
    double t0 = now_s();
    xf_tok_encode(tk, text, tl, &t);
    double dt = now_s() - t0;
    cr_assert(dt < 5, "200 KB with %d added tokens took %.2f s", NADD, dt);
    size_t hits = 0;
    for (size_t i = 0; i < t.n; i++) hits += t.ids[i] == 12 + 12;
    cr_assert_eq(hits, nunit, "%zu matches of <t12>, want %zu", hits, nunit);
    xf_tokens_free(&t);
    CHECK_TOKENS(tk, "<t12><t1>x", 12 + 12, 12 + 1, 10);
    free(text);
    xf_tok_free(tk);
    free(j);
    free(added);
}
