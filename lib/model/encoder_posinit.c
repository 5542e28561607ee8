/* encoder_posinit.c — sinusoidal position embeddings (encoder_posinit.h). */
#include "encoder_posinit.h"

#include <math.h>

void xf_encoder_init_sinusoidal_positions(xf_encoder *e, float amplitude)
{
    const xf_enc_dims *d = xf_encoder_dims(e);
    float *wpe = xf_encoder_weights(e)->wpe;
    int C = d->hidden;
    for (int p = 0; p < d->max_pos; p++)
        for (int c = 0; c < C; c++) {
            /* pair (2i, 2i+1) shares the frequency 10000^(-2i/C) */
            double angle = p * pow(10000.0, -(double)(c - c % 2) / C);
            wpe[(size_t)p * C + c] = (float)(amplitude * (c % 2 ? cos(angle) : sin(angle)));
        }
}
