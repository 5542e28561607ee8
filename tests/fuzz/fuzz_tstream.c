/* fuzz_tstream.c — xf tensor streams (xf-stream(5)): record by record
 * (xf_ts_open / xf_ts_next), as a whole set (xf_tset_read_stream) and as
 * a model (xf_model_load: HEAD's config, name mapping), zstd or not. */
#include "harness.h"
#include "hfmodel.h"
#include "tstream.h"

int fuzz_stages = 3;

void fuzz_setup(void) {}

void fuzz_one(const uint8_t *data, size_t size, int stage)
{
    const char *p = fuzz_file("in.xfts", data, size);
    if (stage == 0) {
        xf_tsreader *r = xf_ts_open(p);
        (void)xf_ts_kind(r);
        xf_tensor t;
        while (xf_ts_next(r, &t)) {
            if (t.dtype == XF_F16 || t.dtype == XF_BF16) xf_tensor_to_f32(&t);
            xf_tensor_free(&t);
        }
        xf_ts_close(r);
    } else if (stage == 1) {
        (void)xf_is_tstream(p);
        xf_tensorset *s = xf_tset_read_stream(p);
        xf_tset_free(s);
    } else {
        xf_config cfg;
        xf_tensorset *s = xf_model_load(p, &cfg);
        xf_tset_free(s);
        xf_config_free(&cfg);
    }
}
