/* tok_ids.c — test driver for the tokenizer library (built by the
 * tests/real/tokenizer-*.sh scripts against the build's libxf.a).
 *
 *   tok_ids [--lower] [--offsets] [--roundtrip] [--bench] TOKENIZER < lines
 *   tok_ids --learn N [--lower] < lines > vocab.txt
 *
 * Prints one line of space-separated ids per input line (with
 * id@start-end when --offsets).  --roundtrip instead checks, for every line
 * without [UNK], that decode(encode(x)) equals normalize(x) with all
 * whitespace removed, and prints "roundtrip LINES CHECKED FAILED".
 * --bench prints "bench BYTES SECONDS TOKENS" for encoding the whole input.
 * --learn writes a WordPiece vocabulary of N pieces learned from the input.
 */
#define _GNU_SOURCE
#include "tokenizer.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *squeeze(const char *s)
{
    char *d = xmalloc(strlen(s) + 1), *o = d;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            *o++ = *s;
    *o = 0;
    return d;
}

int main(int argc, char **argv)
{
    xf_init(argc, argv);
    int lower = 0, offsets = 0, roundtrip = 0, bench = 0;
    long learn = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--learn") == 0 && i + 1 < argc) {
            learn = xf_parse_long("--learn", argv[++i], 6, 10000000);
            continue;
        }
        if (strcmp(argv[i], "--lower") == 0) lower = 1;
        else if (strcmp(argv[i], "--offsets") == 0) offsets = 1;
        else if (strcmp(argv[i], "--roundtrip") == 0) roundtrip = 1;
        else if (strcmp(argv[i], "--bench") == 0) bench = 1;
        else path = argv[i];
    }
    if (learn) {
        size_t nl = 0, lc = 1024, m;
        char **all = xmalloc(lc * sizeof *all), *l = NULL;
        size_t c = 0;
        ssize_t k;
        while ((k = getline(&l, &c, stdin)) >= 0) {
            if (k && l[k - 1] == '\n')
                l[k - 1] = 0;
            if (nl == lc)
                all = xrealloc(all, (lc *= 2) * sizeof *all);
            all[nl++] = xstrdup(l);
        }
        char **v = xf_wordpiece_learn((const char *const *)all, nl, (size_t)learn, lower, &m);
        for (size_t i = 0; i < m; i++)
            printf("%s\n", v[i]);
        return 0;
    }
    if (!path)
        die_usage("usage: tok_ids [--lower] [--offsets] [--roundtrip] [--bench] TOKENIZER");
    xf_tokenizer *tk = xf_tok_load(path);
    if (lower)
        xf_tok_set_lowercase(tk, 1);
    xf_tokens t = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lines = 0, checked = 0, failed = 0;
    if (bench) {
        /* whole input in memory first, so only encoding is timed */
        size_t nl = 0, lc = 1024, bytes = 0;
        char **all = xmalloc(lc * sizeof *all);
        size_t *len = xmalloc(lc * sizeof *len);
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            if (nl == lc) {
                lc *= 2;
                all = xrealloc(all, lc * sizeof *all);
                len = xrealloc(len, lc * sizeof *len);
            }
            all[nl] = xstrdup(line);
            len[nl++] = (size_t)n;
            bytes += (size_t)n;
        }
        double t0 = xf_now();
        size_t toks = 0;
        for (size_t i = 0; i < nl; i++) {
            xf_tokens_clear(&t);
            toks += xf_tok_encode(tk, all[i], len[i], &t);
        }
        double dt = xf_now() - t0;
        printf("bench %zu %.6f %zu\n", bytes, dt, toks);
        return 0;
    }
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        lines++;
        xf_tokens_clear(&t);
        xf_tok_encode(tk, line, (size_t)n, &t);
        if (roundtrip) {
            int has_unk = 0;
            for (size_t i = 0; i < t.n; i++)
                has_unk |= t.ids[i] == xf_tok_specials(tk).unk;
            if (has_unk)
                continue;
            checked++;
            char *dec = xf_tok_decode(tk, t.ids, t.n, 0);
            char *norm = xf_tok_normalize(tk, line, (size_t)n);
            char *a = squeeze(dec), *b = squeeze(norm);
            if (strcmp(a, b) != 0) {
                if (failed < 5)
                    fprintf(stderr, "roundtrip mismatch at line %ld:\n  decoded:    %s\n  normalized: %s\n",
                            lines, dec, norm);
                failed++;
            }
            free(a), free(b), free(dec), free(norm);
            continue;
        }
        for (size_t i = 0; i < t.n; i++) {
            if (offsets)
                printf("%s%d@%d-%d", i ? " " : "", t.ids[i], t.start[i], t.end[i]);
            else
                printf("%s%d", i ? " " : "", t.ids[i]);
        }
        putchar('\n');
    }
    if (roundtrip)
        printf("roundtrip %ld %ld %ld\n", lines, checked, failed);
    xf_tokens_free(&t);
    xf_tok_free(tk);
    free(line);
    return 0;
}
