/* mst.h — maximum spanning arborescence (Chu-Liu/Edmonds) for dependency
 * decoding with exactly one word attached to the root.
 *
 * Single root without trying each root child in turn: every tree uses at
 * least one root arc, so lowering all root arcs by a constant M larger than
 * the score range of any tree makes the best tree use exactly one, and among
 * those it is the best under the original scores.  One CLE run, exact.
 */
#ifndef XF_MST_H
#define XF_MST_H

#include <stdint.h>

/* scores[d*(n+1) + h]: score of head h (0 = root, 1..n words) for dependent
 * d (1..n); row 0 and the diagonal are ignored.  -INFINITY marks a forbidden
 * arc (a word must keep at least one allowed head).  Writes heads[0..n-1]
 * (heads[i] = head of word i+1) and returns the tree's score. */
double xf_mst_decode(const float *scores, int n, int32_t *heads);

/* Greedy reference decoding: each word takes its best head (self and root
 * included, no tree constraint), as the adapters library's parser. */
void xf_greedy_heads(const float *scores, int n, int32_t *heads);

/* True when heads[0..n-1] form a tree rooted at 0 with exactly one root child. */
int xf_heads_are_tree(const int32_t *heads, int n);

#endif
