/* encoder_posinit.h — sinusoidal initialisation of learned position
 * embeddings, for pretraining small models from scratch.
 *
 * HF initialises position embeddings like every other embedding, N(0,
 * initializer_range): each position is a random vector, so nothing relates
 * position p to position p+1.  A large model learns that structure during
 * pretraining; a tiny one trained for a few hundred steps does not, and a
 * frozen tiny base then cannot tell a task head which word is next to which
 * (a biaffine parser on it stays near the neighbour baselines).  Starting
 * from the sinusoids of Vaswani et al. (2017), for which p+k is a fixed
 * rotation of p for every p, gives relative position from step 0.  The
 * table stays an ordinary trained parameter.
 */
#ifndef XF_ENCODER_POSINIT_H
#define XF_ENCODER_POSINIT_H

#include "encoder.h"

/* Amplitude of the sinusoids: rows of norm ~0.1·sqrt(C/2), a few times the
 * N(0, 0.02) word embeddings, so position is neither lost nor dominant. */
#define XF_SINUSOID_AMPLITUDE 0.1f

/* wpe[p, 2i] = A sin(p / 10000^(2i/C)), wpe[p, 2i+1] = A cos(same), for
 * every row p of the position table (RoBERTa's padding rows included). */
void xf_encoder_init_sinusoidal_positions(xf_encoder *e, float amplitude);

#endif
