/* test_wordpiece.c — WordPiece against hand-checked ids of the real mBERT
 * vocabularies (id = line number - 1 in vocab.txt, looked up with grep). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tokenizer.h"
#include "util.h"
#include "testutil.h"

static xf_tokenizer *cased, *uncased;

static void setup(void)
{
    cased = xf_tok_load(data_path("tokenizers/mbert-cased/vocab.txt"));
    uncased = xf_tok_load(data_path("tokenizers/mbert-uncased/vocab.txt"));
    xf_tok_set_lowercase(uncased, 1);
}

static void teardown(void)
{
    xf_tok_free(cased);
    xf_tok_free(uncased);
}

TestSuite(wordpiece, .init = setup, .fini = teardown);

Test(wordpiece, loads_real_vocabs)
{
    cr_assert_eq(xf_tok_vocab_size(cased), 119547);
    /* split on \n only: the U+2028 pieces stay single entries */
    cr_assert_eq(xf_tok_vocab_size(uncased), 105879);
    cr_assert_eq(xf_tok_id(uncased, "\xe2\x80\xa8"), 1279);
    cr_assert_eq(xf_tok_kind_of(cased), XF_TOK_WORDPIECE);
    xf_tok_special sp = xf_tok_specials(cased);
    cr_assert_eq(sp.pad, 0);
    cr_assert_eq(sp.unk, 100);
    cr_assert_eq(sp.cls, 101);
    cr_assert_eq(sp.sep, 102);
    cr_assert_eq(sp.mask, 103);
    cr_assert_eq(xf_tok_pair_double_sep(cased), 0);
    cr_assert(xf_tok_is_special(cased, 101));
    cr_assert(!xf_tok_is_special(cased, 31178));
    cr_assert_str_eq(xf_tok_piece(cased, 31178), "Hello");
    /* no tokenizer_config.json next to the file: cased by default */
    cr_assert_eq(xf_tok_lowercase(cased), 0);
}

Test(wordpiece, accents_cased_keep_uncased_strip)
{
    CHECK_TOKENS(cased, "café", 34551);
    CHECK_TOKENS(uncased, "café", 18427);            /* "cafe" */
    CHECK_TOKENS(cased, "Ça", 232, 10113);           /* Ç ##a */
    CHECK_TOKENS(uncased, "Ça", 10678);              /* "ca" */
    /* NFD also splits Hangul syllables into conjoining jamo (Lo, kept) */
    CHECK_TOKENS(uncased, "한국어", 47529, 13413);
    CHECK_TOKENS(cased, "한국어", 48556, 12965);       /* 한국 ##어 */
}

Test(wordpiece, uppercase_greek_uncased_no_final_sigma)
{
    CHECK_TOKENS(uncased, "ΣΟΦΊΑ", 299, 13367, 44307);   /* σ ##ο ##φια */
    CHECK_TOKENS(uncased, "ΟΣ", 295, 62591);             /* ο ##σ, not ##ς (10569) */
    char *n = xf_tok_normalize(uncased, "ΣΟΦΊΑ", strlen("ΣΟΦΊΑ"));
    cr_assert_str_eq(n, "σοφια");
    free(n);
}

Test(wordpiece, cjk_spacing)
{
    CHECK_TOKENS(cased, "東京", 4506, 2172);
    CHECK_TOKENS(uncased, "東京", 4501, 1755);
    char *n = xf_tok_normalize(cased, "a東b", strlen("a東b"));
    cr_assert_str_eq(n, "a 東 b");
    free(n);
    /* HF's table starts CJK Extension E at U+2B920: U+2B820 is not spaced */
    n = xf_tok_normalize(cased, "a\xf0\xab\xa0\xa0", 5);
    cr_assert_str_eq(n, "a\xf0\xab\xa0\xa0");
    free(n);
    n = xf_tok_normalize(cased, "a\xf0\xab\xa4\xa0", 5);
    cr_assert_str_eq(n, "a \xf0\xab\xa4\xa0 ");
    free(n);
}

Test(wordpiece, punctuation_versus_symbols)
{
    CHECK_TOKENS(cased, "5€", 126, 111660);              /* € is Sc: stays in the word */
    CHECK_TOKENS(cased, "$5", 109, 126);                 /* $ is ASCII punctuation */
    CHECK_TOKENS(cased, "¿Qué?", 224, 86462, 136);       /* ¿ Qué ? */
    CHECK_TOKENS(cased, "«hola»", 208, 110516, 10113, 220); /* « hol ##a » */
    CHECK_TOKENS(uncased, "«HOLA»", 183, 69887, 10112, 196);
    CHECK_TOKENS(cased, "a\\b", 169, 165, 170);          /* \ */
}

Test(wordpiece, control_chars_dropped)
{
    CHECK_TOKENS(cased, "a\x01" "b", 11357);            /* "ab" */
    CHECK_TOKENS(cased, "a\xe2\x80\x8b" "b", 11357);    /* U+200B (Cf) */
    CHECK_TOKENS(cased, "a\xef\xbf\xbd" "b", 11357);    /* U+FFFD */
    CHECK_TOKENS(cased, "a\x0b" "b", 11357);            /* U+000B: Cc, dropped not space */
    /* U+0378 is unassigned (Cn): HF's char::is_other() is Cc/Cf/Co only, so
     * it stays and "a\u0378b" is one word with no piece: [UNK] */
    CHECK_TOKENS(cased, "a\xcd\xb8" "b", 100);
    CHECK_TOKENS(cased, "a\xee\x80\x80" "b", 11357);    /* U+E000: private use (Co) */
    CHECK_TOKENS(cased, "a\tb\r\nb", 169, 170, 170);
}

Test(wordpiece, unicode_spaces)
{
    CHECK_TOKENS(cased, "a\xc2\xa0" "b", 169, 170);     /* U+00A0 */
    CHECK_TOKENS(cased, "a\xe3\x80\x80" "b", 169, 170); /* U+3000 */
    CHECK_TOKENS(cased, "a\xe2\x80\x83" "b", 169, 170); /* U+2003 */
    CHECK_TOKENS(cased, "a\xe2\x80\xa8" "b", 169, 170); /* U+2028 is White_Space */
}

Test(wordpiece, long_words)
{
    char w[102];
    memset(w, 'a', 101);
    w[100] = 0;
    xf_tokens t = {0};
    xf_tok_encode(cased, w, 100, &t);
    cr_assert_eq(t.n, 50);                        /* aa ##aa x49 */
    cr_assert_eq(t.ids[0], 28335);
    for (size_t i = 1; i < 50; i++)
        cr_assert_eq(t.ids[i], 17394);
    xf_tokens_clear(&t);
    w[100] = 'a';
    w[101] = 0;
    xf_tok_encode(cased, w, 101, &t);
    cr_assert_eq(t.n, 1);
    cr_assert_eq(t.ids[0], 100);
    cr_assert_eq(t.start[0], 0);
    cr_assert_eq(t.end[0], 101);
    xf_tokens_free(&t);
}

Test(wordpiece, unknown_char_whole_word)
{
    CHECK_TOKENS(cased, "ab\xe2\x98\x83 b", 100, 170);   /* "ab☃" -> one [UNK] */
}

Test(wordpiece, special_tokens_not_split)
{
    CHECK_TOKENS(cased, "[CLS]Hello[SEP]", 101, 31178, 102);
    CHECK_TOKENS(cased, "a [MASK] b", 169, 103, 170);
    CHECK_TOKENS(uncased, "[MASK]", 103);
    CHECK_TOKENS(cased, "[PAD][UNK]", 0, 100);
    CHECK_TOKENS(uncased, "[mask]", 138, 44054, 140);    /* lowercase: not special */
}

Test(wordpiece, continuation_and_offsets)
{
    const char *s = "Ça coûte";
    xf_tokens t = {0};
    xf_tok_encode(cased, s, strlen(s), &t);
    int32_t ids[] = {232, 10113, 81010, 10112};   /* Ç ##a coût ##e */
    int32_t st[] = {0, 2, 4, 9}, en[] = {2, 3, 9, 10};
    cr_assert_eq(t.n, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(t.ids[i], ids[i]);
        cr_assert_eq(t.start[i], st[i], "token %zu start %d", i, t.start[i]);
        cr_assert_eq(t.end[i], en[i], "token %zu end %d", i, t.end[i]);
    }
    /* uncased: NFD changes byte lengths, offsets still point into the source */
    xf_tokens_clear(&t);
    const char *u = "\x01ÇA café";
    xf_tok_encode(uncased, u, strlen(u), &t);
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.ids[0], 10678);
    cr_assert_eq(t.start[0], 1);
    cr_assert_eq(t.end[0], 4);
    cr_assert_eq(t.ids[1], 18427);
    cr_assert_eq(t.start[1], 5);
    cr_assert_eq(t.end[1], 10);
    xf_tokens_free(&t);
}

Test(wordpiece, decode_roundtrip)
{
    const char *s = "Ça coûte 5€, ¿Qué?";
    xf_tokens t = {0};
    xf_tok_encode(cased, s, strlen(s), &t);
    char *d = xf_tok_decode(cased, t.ids, t.n, 0);
    cr_assert_str_eq(d, "Ça coûte 5€ , ¿ Qué ?");
    free(d);
    xf_tokens_clear(&t);
    xf_tokens_push(&t, 101, 0, 0);
    xf_tok_encode(cased, "Hello", 5, &t);
    xf_tokens_push(&t, 102, 0, 0);
    d = xf_tok_decode(cased, t.ids, t.n, 1);
    cr_assert_str_eq(d, "Hello");
    free(d);
    d = xf_tok_decode(cased, t.ids, t.n, 0);
    cr_assert_str_eq(d, "[CLS] Hello [SEP]");
    free(d);
    xf_tokens_free(&t);
}

Test(wordpiece, in_memory_vocab)
{
    const char *v[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "a"};
    xf_tokenizer *tk = xf_tok_wordpiece_new(v, 9, 1);
    CHECK_TOKENS(tk, "UNAFFABLE a", 5, 6, 7, 8);
    CHECK_TOKENS(tk, "unaffablex", 1);
    xf_tok_free(tk);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

Test(wordpiece, folder_config_and_json)
{
    char dir[] = "/tmp/xf-test-wp-XXXXXX";
    cr_assert(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/vocab.txt", dir);
    write_file(p, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\n##aff\n##able\n");
    xf_tokenizer *tk = xf_tok_load(dir);
    cr_assert_eq(xf_tok_lowercase(tk), 0);
    CHECK_TOKENS(tk, "UNaffable", 1);
    cr_assert_str_eq(xf_tok_source(tk), p);
    xf_tok_free(tk);
    snprintf(p, sizeof p, "%s/tokenizer_config.json", dir);
    write_file(p, "{\"do_lower_case\": true, \"model_max_length\": 512}");
    tk = xf_tok_load(dir);
    cr_assert_eq(xf_tok_lowercase(tk), 1);
    CHECK_TOKENS(tk, "UNaffable", 5, 6, 7);
    xf_tok_free(tk);
    /* a BERT tokenizer.json takes precedence in a folder */
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    write_file(p, "{\"normalizer\":{\"type\":\"BertNormalizer\",\"lowercase\":true},"
                  "\"post_processor\":{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",2],"
                  "\"cls\":[\"[CLS]\",1]},\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
                  "\"vocab\":{\"[UNK]\":0,\"[CLS]\":1,\"[SEP]\":2,\"un\":3,\"##aff\":4,\"##able\":5}}}");
    tk = xf_tok_load(dir);
    cr_assert_eq(xf_tok_kind_of(tk), XF_TOK_WORDPIECE);
    CHECK_TOKENS(tk, "[CLS]UNaffable", 1, 3, 4, 5);
    cr_assert_eq(xf_tok_specials(tk).sep, 2);
    cr_assert_eq(xf_tok_pair_double_sep(tk), 0);
    xf_tok_free(tk);
    const char *names[] = {"vocab.txt", "tokenizer_config.json", "tokenizer.json"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

Test(wordpiece, bad_path_dies, .exit_code = 1)
{
    xf_tok_load("/nonexistent/vocab.txt");
}

/* ---- hostile vocabularies ---- */

static void load_ctx(void *ctx) { xf_tok_free(xf_tok_load(ctx)); }

/* Loading PATH in a child fails with exit 1 and WANT in its message. */
static void expect_load_error(const char *path, const char *want)
{
    char err[] = "/tmp/xf-test-wp-err-XXXXXX";
    int fd = mkstemp(err);
    cr_assert(fd >= 0);
    close(fd);
    int st = run_in_child(load_ctx, (void *)path, err);
    FILE *f = fopen(err, "r");
    char msg[1024] = "";
    if (f) {
        size_t n = fread(msg, 1, sizeof msg - 1, f);
        msg[n] = 0;
        fclose(f);
    }
    unlink(err);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status %d for %s", st, path);
    cr_assert(strstr(msg, want), "message '%s' lacks '%s'", msg, want);
}

Test(wordpiece, invalid_utf8_vocab_and_non_boolean_lowercase)
{
    char dir[64];
    make_temp_dir(dir, "/tmp/xf-test-wp.XXXXXX");
    const char *vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\n";
    /* a lone continuation byte and a truncated sequence on line 7 */
    char bad[128];
    snprintf(bad, sizeof bad, "%sa\x80" "b\n", vocab);
    write_text(path_in_dir(dir, "bad.txt"), bad);
    expect_load_error(path_in_dir(dir, "bad.txt"), "bad.txt:7: invalid UTF-8 in vocabulary");
    snprintf(bad, sizeof bad, "%s\xe2\x82\n", vocab);
    write_text(path_in_dir(dir, "bad.txt"), bad);
    expect_load_error(path_in_dir(dir, "bad.txt"), "bad.txt:7: invalid UTF-8");
    /* do_lower_case must be a boolean: "yes" was silently cased */
    write_text(path_in_dir(dir, "vocab.txt"), vocab);
    write_text(path_in_dir(dir, "tokenizer_config.json"), "{\"do_lower_case\": \"yes\"}");
    expect_load_error(dir, "tokenizer_config.json: key 'do_lower_case': not a boolean");
    write_text(path_in_dir(dir, "tokenizer_config.json"), "{\"do_lower_case\": true}");
    xf_tokenizer *tk = xf_tok_load(dir);
    cr_assert(xf_tok_lowercase(tk));
    CHECK_TOKENS(tk, "AB", 5);
    xf_tok_free(tk);
    remove_temp_dir(dir);
}
