/* fuzz_tsv.c — the xf TSV dialect (xf-tsv(5)) and eval rows.
 *
 * Stage 0: xf_tsv_open and every row: fields, their lengths, each field
 * as a number and as an integer (xf_tsv_double / xf_tsv_ll, which die on
 * junk: so only the first non-numeric field of an input gets that far;
 * the harness reads fields that look numeric), and the escape round trip
 * of every field.
 * Stage 1: eval rows (xf_evalset_read's checks: header, fields, values,
 * duplicate keys).  xf_intern keeps its strings for the life of the
 * process, so the rows are read with tracking off (harness.h): a row set
 * that dies leaks those few strings by design. */
#include <stdlib.h>
#include <string.h>

#include "evalrow.h"
#include "harness.h"
#include "tsv.h"
#include "util.h"

int fuzz_stages = 2;

void fuzz_setup(void) {}

/* Looks like a number (so that one junk field does not end the row). */
static int numeric(const char *s)
{
    int digits = 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') digits = 1;
        else if (!strchr("+-.eE", *s)) return 0;
    }
    return digits;
}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    const char *p = fuzz_file("in.tsv", data, size);
    xf_tsv *t = xf_tsv_open(p);
    if (stage == 0) {
        size_t nc = xf_tsv_ncols(t);
        for (size_t i = 0; i < nc; i++) (void)xf_tsv_col(t, xf_tsv_colname(t, i));
        while (xf_tsv_next(t)) {
            for (size_t i = 0; i < nc; i++) {
                const char *f = xf_tsv_field(t, i);
                size_t len = xf_tsv_field_len(t, i);
                if (strlen(f) == len) {
                    char *e = xf_tsv_escape(f);
                    size_t back = xf_tsv_unescape(e, strlen(e));
                    if (back != len || memcmp(e, f, len)) {
                        fprintf(stderr, "escape round trip changed field %zu\n", i);
                        abort();
                    }
                    free(e);
                }
                if (numeric(f)) {
                    (void)xf_tsv_double(t, i);
                    if (!strpbrk(f, ".eE")) (void)xf_tsv_ll(t, i);
                }
            }
        }
        xf_tsv_close(t);
        return;
    }
    if (!xf_evalrow_header_matches(t)) {
        xf_tsv_close(t);
        return;
    }
    /* rows allocated here (tracked), so a dying stage frees them */
    xf_evalset set = {.cap = 256};
    set.rows = xmalloc(set.cap * sizeof *set.rows);
    fuzz_track(0);
    xf_evalset_read_tsv(&set, t);
    xf_evalset_check_duplicates(&set);
    fuzz_track(1);
    xf_tsv_close(t);
    xf_evalset_free(&set);
}
