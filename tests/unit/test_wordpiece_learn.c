/* test_wordpiece_learn.c — WordPiece vocabulary learning: order, merges
 * worked out by hand, tie-breaking, lowercasing, determinism, and a timed
 * (reported, not asserted) run on real text. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"
#include "util.h"
#include "zio.h"

static void free_vocab(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void expect(char **v, size_t n, const char *const *want, size_t nw)
{
    cr_assert_eq(n, nw, "%zu pieces, want %zu", n, nw);
    for (size_t i = 0; i < nw; i++)
        cr_assert_str_eq(v[i], want[i], "piece %zu is \"%s\", want \"%s\"", i, v[i], want[i]);
}

Test(wordpiece_learn, merges_by_frequency)
{
    /* words: ab x3, abc x1.  pairs (a,##b)=4, (##b,##c)=1: merge "ab";
     * then (ab,##c)=1: merge "abc". */
    const char *lines[] = {"ab ab", "ab abc"};
    size_t n;
    char **v = xf_wordpiece_learn(lines, 2, 100, 0, &n);
    const char *want[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                          "a", "##b", "##c", "ab", "abc"};
    expect(v, n, want, 10);
    /* the learned vocab encodes with the same rules */
    xf_tokenizer *tk = xf_tok_wordpiece_new((const char *const *)v, n, 0);
    xf_tokens t = {0};
    xf_tok_encode(tk, "abc ab, cab", 11, &t);
    int32_t ids[] = {9, 8, 1, 1};   /* abc ab [UNK](",") [UNK]("cab": no "c") */
    cr_assert_eq(t.n, 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(t.ids[i], ids[i], "token %zu: %d", i, t.ids[i]);
    xf_tokens_free(&t);
    xf_tok_free(tk);
    free_vocab(v, n);
}

Test(wordpiece_learn, size_limit_and_ties)
{
    /* (a,##b) and (c,##d) both count 1: the pair of smaller symbol ids
     * (a and ##b appear first) merges first. Punctuation is its own word. */
    const char *lines[] = {"ab cd!"};
    size_t n;
    char **v = xf_wordpiece_learn(lines, 1, 11, 0, &n);
    const char *want[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                          "!", "a", "c", "##b", "##d", "ab"};
    expect(v, n, want, 11);
    free_vocab(v, n);
}

Test(wordpiece_learn, lowercase_and_alphabet_cap)
{
    const char *lines[] = {"AB ab Ab"};
    size_t n;
    char **v = xf_wordpiece_learn(lines, 1, 100, 1, &n);
    const char *want[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##b", "ab"};
    expect(v, n, want, 8);
    free_vocab(v, n);
    /* room for 2 symbols: the most frequent ones (a x4, ##b x3 > ##z x1) */
    const char *l2[] = {"ab ab ab az"};
    v = xf_wordpiece_learn(l2, 1, 7, 0, &n);
    const char *want2[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##b"};
    expect(v, n, want2, 7);
    free_vocab(v, n);
}

/* Up to ~2 MB of real text lines from $XF_DATA/text. */
static char **real_lines(size_t *n_out, size_t *bytes_out)
{
    const char *d = getenv("XF_DATA");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/text", d ? d : "../shared/data");
    struct dirent **ents;
    int ne = scandir(dir, &ents, NULL, alphasort);
    cr_assert(ne > 0, "no text in %s", dir);
    size_t n = 0, cap = 1 << 14, bytes = 0;
    char **lines = xmalloc(cap * sizeof *lines);
    for (int e = 0; e < ne; e++) {
        if (strstr(ents[e]->d_name, ".txt") && bytes < 2000000) {
            char p[8192];
            snprintf(p, sizeof p, "%s/%s", dir, ents[e]->d_name);
            xf_in *in = xf_in_open(p);
            char *line;
            ssize_t l;
            int k = 0;
            while (k++ < 600 && (l = xf_in_getline(in, &line)) >= 0) {
                if (n == cap)
                    lines = xrealloc(lines, (cap *= 2) * sizeof *lines);
                lines[n++] = xstrdup(line);
                bytes += (size_t)l + 1;
            }
            xf_in_close(in);
        }
        free(ents[e]);
    }
    free(ents);
    *n_out = n;
    *bytes_out = bytes;
    return lines;
}

Test(wordpiece_learn, real_text_deterministic, .timeout = 60)
{
    size_t n, bytes;
    char **lines = real_lines(&n, &bytes);
    double t0 = xf_now();
    size_t n1, n2;
    char **v1 = xf_wordpiece_learn((const char *const *)lines, n, 8000, 0, &n1);
    double dt = xf_now() - t0;
    fprintf(stderr, "wordpiece_learn: 8000 pieces from %.2f MB (%zu lines) in %.2f s\n",
            bytes / 1e6, n, dt);
    char **v2 = xf_wordpiece_learn((const char *const *)lines, n, 8000, 0, &n2);
    cr_assert_eq(n1, 8000);
    cr_assert_eq(n2, n1);
    for (size_t i = 0; i < n1; i++)
        cr_assert_str_eq(v1[i], v2[i]);
    /* no duplicates, and every merged piece decomposes into known pieces */
    xf_tokenizer *tk = xf_tok_wordpiece_new((const char *const *)v1, n1, 0);
    for (size_t i = 0; i < n1; i++)
        cr_assert_eq(xf_tok_id(tk, v1[i]), (int32_t)i, "duplicate piece \"%s\"", v1[i]);
    /* every line encodes, and decodes back to its normalised text */
    xf_tokens t = {0};
    size_t checked = 0;
    for (size_t i = 0; i < n; i += 7) {
        xf_tokens_clear(&t);
        xf_tok_encode(tk, lines[i], strlen(lines[i]), &t);
        int unk = 0;
        for (size_t k = 0; k < t.n; k++)
            unk |= t.ids[k] == 1;
        if (unk)
            continue;
        char *dec = xf_tok_decode(tk, t.ids, t.n, 0);
        char *norm = xf_tok_normalize(tk, lines[i], strlen(lines[i]));
        char *a = dec, *b = norm;
        for (;;) {
            while (*a == ' ') a++;
            while (*b == ' ') b++;
            if (!*a || !*b || *a != *b)
                break;
            a++, b++;
        }
        cr_assert(*a == *b, "line %zu: decoded \"%s\" vs normalised \"%s\"", i, dec, norm);
        free(dec);
        free(norm);
        checked++;
    }
    cr_assert(checked > n / 14, "only %zu lines without [UNK]", checked);
    xf_tokens_free(&t);
    xf_tok_free(tk);
    free_vocab(v1, n1);
    free_vocab(v2, n2);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}
