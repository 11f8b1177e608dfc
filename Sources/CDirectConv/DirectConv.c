#include "CDirectConv.h"
#include "Vectors.h"

INLINE long min_long(long a, long b) { return a < b ? a : b; }

// Tile of the products: MR rows × NR columns, 12 vector accumulators, which
// leaves 4 of the 16 vector registers for operands.
enum { MR = 3, NV = 4, NR = 8 * NV };

// Rows of b one pass of streamed_tiles reads at most: a column block of
// 128 rows (16 KiB) stays in L1 while all rows of c use it. Grad-input at the
// learner's first layer reads all 64 rows of gy in one pass, each tile
// over the whole depth; with passes of 8 rows its cols were read and written
// back 8 times (`git log -p docs/benchmarks.md` has the measurements).
enum { DEPTH_CHUNK = 128 };

// Column blocks ahead of the one being computed that streamed_tiles
// prefetches: into L1 while the block's first tile runs, into L2 during its
// second.
enum { AHEAD_L1 = 1, AHEAD_L2 = 3 };

/// Rows and columns of an input plane with its zero border.
INLINE long padded_height(const dc_shape *s) { return s->height + 2 * s->padding; }
INLINE long padded_width(const dc_shape *s) { return s->width + 2 * s->padding; }

/// Rows of edge_tiles' tail block: the forward's depth, or grad-input's pass.
INLINE long tail_rows(const dc_shape *s) {
    long patch = s->channels * s->kernel_height * s->kernel_width;
    return patch > DEPTH_CHUNK ? patch : DEPTH_CHUNK;
}

// Row copies and sums of im2col/col2im, 8 floats at a time, then 4: the
// compiler's own loops take a 28-float row 4 at a time (measured: grad-input
// 1.05x, grad-weight 1.05x faster at the learner's first layer; the step of 4
// for the last 4 of a 28-float row: 3% fewer instructions in grad-input).

/// dst[i] = src[i] for i < n.
INLINE void copy_row(float *dst, const float *src, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) STORE8(dst + i, LOAD8(src + i));
    if (i + 4 <= n) { STORE4(dst + i, LOAD4(src + i)); i += 4; }
    for (; i < n; i++) dst[i] = src[i];
}

/// dst[i] += src[i] for i < n.
INLINE void add_row(float *dst, const float *src, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) STORE8(dst + i, LOAD8(dst + i) + LOAD8(src + i));
    if (i + 4 <= n) { STORE4(dst + i, LOAD4(dst + i) + LOAD4(src + i)); i += 4; }
    for (; i < n; i++) dst[i] += src[i];
}

long dc_scratch_count(const dc_shape *s) {
    long patch = s->channels * s->kernel_height * s->kernel_width;
    return patch * s->output_height * s->output_width + tail_rows(s) * NR + s->channels * padded_height(s) * padded_width(s);
}

/// cols [C·KH·KW, HO·WO] from x [C,H,W]: row (c, ky, kx) holds the input
/// value each output pixel multiplies by w[·, c, ky, kx]. `padded`
/// [C, H+2p, W+2p] receives x with its zero border first.
INLINE void im2col(const dc_shape *s, const float *x, float *padded, float *cols) {
    long hp = padded_height(s), wp = padded_width(s), p = s->padding;
    memset(padded, 0, sizeof(float) * s->channels * hp * wp);
    for (long c = 0; c < s->channels; c++) {
        for (long iy = 0; iy < s->height; iy++) {
            memcpy(padded + (c * hp + iy + p) * wp + p, x + (c * s->height + iy) * s->width, sizeof(float) * s->width);
        }
    }
    long wo = s->output_width, st = s->stride;
    float *row = cols;
    for (long c = 0; c < s->channels; c++) {
        for (long ky = 0; ky < s->kernel_height; ky++) {
            for (long kx = 0; kx < s->kernel_width; kx++) {
                for (long oy = 0; oy < s->output_height; oy++, row += wo) {
                    const float *src = padded + (c * hp + oy * st + ky) * wp + kx;
                    if (st == 1) {
                        copy_row(row, src, wo);
                    } else {
                        for (long ox = 0; ox < wo; ox++) row[ox] = src[ox * st];
                    }
                }
            }
        }
    }
}

/// dx [C,H,W] = the sum of cols [C·KH·KW, HO·WO] placed back where im2col
/// took each value from, summed in `padded` [C, H+2p, W+2p] whose border is
/// then dropped.
INLINE void col2im(const dc_shape *s, const float *cols, float *padded, float *dx) {
    long hp = padded_height(s), wp = padded_width(s), p = s->padding;
    long wo = s->output_width, st = s->stride;
    memset(padded, 0, sizeof(float) * s->channels * hp * wp);
    const float *row = cols;
    for (long c = 0; c < s->channels; c++) {
        for (long ky = 0; ky < s->kernel_height; ky++) {
            for (long kx = 0; kx < s->kernel_width; kx++) {
                for (long oy = 0; oy < s->output_height; oy++, row += wo) {
                    float *dst = padded + (c * hp + oy * st + ky) * wp + kx;
                    if (st == 1) {
                        add_row(dst, row, wo);
                    } else {
                        for (long ox = 0; ox < wo; ox++) dst[ox * st] += row[ox];
                    }
                }
            }
        }
    }
    for (long c = 0; c < s->channels; c++) {
        for (long iy = 0; iy < s->height; iy++) {
            memcpy(dx + (c * s->height + iy) * s->width, padded + (c * hp + iy + p) * wp + p, sizeof(float) * s->width);
        }
    }
}

/// Prefetches the NR floats (two cache lines) from p: into L1 (into_l2 = 0)
/// or only into L2 (into_l2 = 1).
INLINE void prefetch_tile_row(const float *p, int into_l2) {
    if (into_l2) { __builtin_prefetch(p, 0, 1); __builtin_prefetch(p + 16, 0, 1); }
    else { __builtin_prefetch(p, 0, 3); __builtin_prefetch(p + 16, 0, 3); }
}

/// acc = one MR × (8·nv) tile of a · b over `depth` rows of b, nv ≤ NV: a's
/// element (m, l) at ar[m][l·a_col], b's tile at bp with rows `pitch` apart.
/// Called with a constant nv, so the loops unroll; acc's other vectors are zero.
/// Unless `ahead` is null, step l also prefetches the first NR floats of row
/// l from `ahead`, so a block's prefetches are spread over the tile instead of
/// queueing at once.
INLINE void product_tile_prefetching(long nv, long depth, const float *const ar[MR], long a_col, const float *bp, long pitch,
                                     v8 acc[MR][NV], const float *ahead, int into_l2) {
    for (long m = 0; m < MR; m++) {
        for (long j = 0; j < NV; j++) acc[m][j] = (v8){0};
    }
    for (long l = 0; l < depth; l++) {
        if (ahead) prefetch_tile_row(ahead + l * pitch, into_l2);
        // 12 accumulators + 3 broadcasts + 1 vector of b: all 16 registers.
        v8 am[MR];
        for (long m = 0; m < MR; m++) { float v = ar[m][l * a_col]; am[m] = (v8){v, v, v, v, v, v, v, v}; }
        for (long j = 0; j < nv; j++) {
            v8 bv = LOAD8(bp + l * pitch + 8 * j);
            for (long m = 0; m < MR; m++) acc[m][j] += am[m] * bv;
        }
    }
}

/// product_tile_prefetching without prefetches.
INLINE void product_tile(long nv, long depth, const float *const ar[MR], long a_col, const float *bp, long pitch, v8 acc[MR][NV]) {
    product_tile_prefetching(nv, depth, ar, a_col, bp, pitch, acc, 0, 0);
}

/// The rows of a tile that starts at row m0 of a: a's element (m, l) is a[m·a_row + l·a_col].
INLINE void tile_rows(const float *ar[MR], const float *a, long m0, long a_row) {
    for (long m = 0; m < MR; m++) ar[m] = a + (m0 + m) * a_row;
}

// Three ways through c = a · b (c [rows, cols], row pitch c_pitch; b [depth,
// cols], row pitch b_pitch; a's element (m, l) is a[m·a_row + l·a_col], so a
// transposed matrix needs no copy):
// - full_tiles: b small (in L1), c large; only whole tiles; the forward.
// - streamed_tiles: b large, read from memory once; only whole tiles; grad-input.
// - edge_tiles: any size, partial tiles included; the rows and columns the
//   other two leave.

/// c = a · b for rows a multiple of MR and cols of NR, MR rows of c at a time
/// so that c is written as a few sequential streams. With `stream`, c is
/// written with non-temporal stores and must be 32-byte aligned at every tile.
INLINE void full_tiles(long rows, long cols, long depth, const float *a, long a_row, long a_col,
                       const float *b, long b_pitch, float *c, long c_pitch, int stream) {
    for (long m0 = 0; m0 < rows; m0 += MR) {
        const float *ar[MR];
        tile_rows(ar, a, m0, a_row);
        for (long p0 = 0; p0 < cols; p0 += NR) {
            v8 acc[MR][NV];
            product_tile(NV, depth, ar, a_col, b + p0, b_pitch, acc);
            for (long m = 0; m < MR; m++) {
                for (long j = 0; j < NV; j++) {
                    float *cj = c + (m0 + m) * c_pitch + p0 + 8 * j;
                    if (stream) __builtin_nontemporal_store(acc[m][j], (v8 *)cj);
                    else STORE8(cj, acc[m][j]);
                }
            }
        }
    }
}

/// Where the column block `k` blocks after the one at (d0, p0) starts, in
/// the order streamed_tiles reads b: blocks along the rows of a pass
/// (`blocks` per row, the last one partial), then the passes, then on into
/// `next`, the next image's b.
INLINE const float *block_ahead(const float *b, long b_pitch, long depth, long d0, long p0, long k, const float *next) {
    long blocks = (b_pitch + NR - 1) / NR, index = p0 / NR + k;
    if (index < blocks) return b + d0 * b_pitch + index * NR;
    if (d0 + DEPTH_CHUNK < depth) return b + (d0 + DEPTH_CHUNK) * b_pitch + (index - blocks) * NR;
    return next + (index - blocks) * NR;
}

/// c = a · b for rows a multiple of MR and cols of NR, b read once: in passes
/// over DEPTH_CHUNK rows of b, each adding to c after the first, one column
/// block at a time for all rows of c, so each block is reused from L1. The
/// first tile of a block prefetches the block AHEAD_L1 further on into L1, the
/// second the one AHEAD_L2 further on into L2; `next` is where the next call's
/// b starts (the next image of a contiguous batch), only ever prefetched.
INLINE void streamed_tiles(long rows, long cols, long depth, const float *a, long a_row, long a_col,
                           const float *b, long b_pitch, float *c, long c_pitch, const float *next) {
    for (long d0 = 0; d0 < depth; d0 += DEPTH_CHUNK) {
        long chunk = min_long(DEPTH_CHUNK, depth - d0);
        for (long p0 = 0; p0 < cols; p0 += NR) {
            const float *bp = b + d0 * b_pitch + p0;
            const float *near = block_ahead(b, b_pitch, depth, d0, p0, AHEAD_L1, next);
            const float *far = block_ahead(b, b_pitch, depth, d0, p0, AHEAD_L2, next);
            for (long m0 = 0; m0 < rows; m0 += MR) {
                const float *ar[MR];
                tile_rows(ar, a + d0 * a_col, m0, a_row);
                v8 acc[MR][NV];
                if (m0 == 0) product_tile_prefetching(NV, chunk, ar, a_col, bp, b_pitch, acc, near, 0);
                else if (m0 == MR) product_tile_prefetching(NV, chunk, ar, a_col, bp, b_pitch, acc, far, 1);
                else product_tile(NV, chunk, ar, a_col, bp, b_pitch, acc);
                for (long m = 0; m < MR; m++) {
                    for (long j = 0; j < NV; j++) {
                        float *cj = c + (m0 + m) * c_pitch + p0 + 8 * j;
                        STORE8(cj, d0 > 0 ? LOAD8(cj) + acc[m][j] : acc[m][j]);
                    }
                }
            }
        }
    }
}

/// c = a · b for any rows and cols, in passes over at most `pass` rows of b
/// (each adding to c after the first). A partial last tile repeats a's last
/// row. Columns past the whole tiles are read in place when they make whole
/// vectors (a narrower tile: 16 of the 784 columns of a 28x28 image; measured
/// 3.6% fewer instructions in grad-input than the copy), else from `tail`
/// [pass, NR], a zero-padded copy, so nothing is read past b's last row.
INLINE void edge_tiles(long rows, long cols, long depth, const float *a, long a_row, long a_col,
                       const float *b, long b_pitch, float *c, long c_pitch, float *tail, long pass) {
    long full = cols - cols % NR, rest = cols - full;
    long vectors = rest % 8 == 0 ? rest / 8 : 0;   // 0: the rest goes through tail
    for (long d0 = 0; d0 < depth; d0 += pass) {
        long chunk = min_long(pass, depth - d0);
        const float *bd = b + d0 * b_pitch;
        for (long l = 0; l < chunk && rest % 8 != 0; l++) {
            for (long q = 0; q < NR; q++) tail[l * NR + q] = full + q < cols ? bd[l * b_pitch + full + q] : 0;
        }
        for (long m0 = 0; m0 < rows; m0 += MR) {
            const float *ar[MR];
            for (long m = 0; m < MR; m++) ar[m] = a + min_long(m0 + m, rows - 1) * a_row + d0 * a_col;
            for (long p0 = 0; p0 < cols; p0 += NR) {
                v8 acc[MR][NV];
                long nv = p0 < full ? NV : vectors;   // a constant in each call below
                if (nv == NV) product_tile(NV, chunk, ar, a_col, bd + p0, b_pitch, acc);
                else if (nv == 3) product_tile(3, chunk, ar, a_col, bd + p0, b_pitch, acc);
                else if (nv == 2) product_tile(2, chunk, ar, a_col, bd + p0, b_pitch, acc);
                else if (nv == 1) product_tile(1, chunk, ar, a_col, bd + p0, b_pitch, acc);
                else product_tile(NV, chunk, ar, a_col, tail, NR, acc);
                float t[MR][NR];
                for (long m = 0; m < MR; m++) {
                    for (long j = 0; j < NV; j++) STORE8(&t[m][8 * j], acc[m][j]);
                }
                float *c0 = c + m0 * c_pitch + p0;
                for (long m = 0; m < min_long(MR, rows - m0); m++) {
                    for (long q = 0; q < min_long(NR, cols - p0); q++) c0[m * c_pitch + q] = (d0 > 0 ? c0[m * c_pitch + q] : 0) + t[m][q];
                }
            }
        }
    }
}

/// Columns of y before the first one whose rows all start a cache line, or -1
/// when y's rows do not all share one alignment (row length not a multiple of
/// 16 floats) and streaming stores cannot be used.
INLINE long first_aligned_column(const float *y, long pixels) {
    if (pixels % 16 != 0 || (unsigned long)y % sizeof(float) != 0) return -1;
    long first = (long)((64 - (unsigned long)y % 64) % 64 / sizeof(float));
    return first <= pixels ? first : -1;
}

// Tile of the weight gradient: GO rows of gy against GK rows of cols, 12
// vector accumulators of partial sums along the pixels.
enum { GO = 4, GK = 3 };

/// dw [outs, patch] += gy [outs, pixels] · cols [patch, pixels]ᵀ, summed in
/// float vectors along one image's pixels, then added in double.
INLINE void weight_product(long outs, long patch, long pixels, const float *gy, const float *cols, double *dw) {
    long vector_end = pixels - pixels % 8;
    for (long o0 = 0; o0 < outs; o0 += GO) {
        const float *gr[GO];
        for (long i = 0; i < GO; i++) gr[i] = gy + min_long(o0 + i, outs - 1) * pixels;
        // The rows of gy that follow, contiguous, are prefetched one cache
        // line per step of the loops below, into L2 only: in L1 they would
        // evict the rows of cols that every block reuses (measured: 1.3x faster
        // than prefetching into L1). No branch in the loop: it runs a little
        // past the next GO rows, into rows needed later or the next image.
        const float *next = gy + (o0 + GO) * pixels;
        for (long k0 = 0; k0 < patch; k0 += GK) {
            const float *cr[GK];
            for (long j = 0; j < GK; j++) cr[j] = cols + min_long(k0 + j, patch - 1) * pixels;
            v8 acc[GO][GK] = {{0}};
            for (long p = 0; p < vector_end; p += 8) {
                __builtin_prefetch(next, 0, 1);
                next += 16;
                v8 cv[GK];
                for (long j = 0; j < GK; j++) cv[j] = LOAD8(cr[j] + p);
                for (long i = 0; i < GO; i++) {
                    v8 g = LOAD8(gr[i] + p);
                    for (long j = 0; j < GK; j++) acc[i][j] += g * cv[j];
                }
            }
            for (long i = 0; i < min_long(GO, outs - o0); i++) {
                for (long j = 0; j < min_long(GK, patch - k0); j++) {
                    double sum = lane_sum(&acc[i][j]);
                    for (long p = vector_end; p < pixels; p++) sum += (double)gr[i][p] * cr[j][p];
                    dw[(o0 + i) * patch + k0 + j] += sum;
                }
            }
        }
    }
}

// One image per call. Scratch: cols [patch, pixels], the tail block of
// edge_tiles [tail_rows, NR], the padded image [C, H+2p, W+2p].

INLINE void forward_image(const dc_shape *s, const float *x, const float *w, float *y, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    float *tail = scratch + patch * pixels, *padded = tail + tail_rows(s) * NR;
    im2col(s, x, padded, scratch);
    // y [O, pixels] = w [O, patch] · cols. Full tiles from a cache-line-aligned
    // column when streaming, else from column 0; edge_tiles does the columns
    // left on either side and the last rows.
    long aligned = s->stream_output ? first_aligned_column(y, pixels) : -1;
    long first = aligned < 0 ? 0 : aligned, rows = s->outputs - s->outputs % MR;
    long count = (pixels - first) - (pixels - first) % NR, rest = first + count;
    full_tiles(rows, count, patch, w, patch, 1, scratch + first, pixels, y + first, pixels, aligned >= 0);
    if (first > 0) edge_tiles(rows, first, patch, w, patch, 1, scratch, pixels, y, pixels, tail, patch);
    if (rest < pixels) edge_tiles(rows, pixels - rest, patch, w, patch, 1, scratch + rest, pixels, y + rest, pixels, tail, patch);
    if (rows < s->outputs) {
        edge_tiles(s->outputs - rows, pixels, patch, w + rows * patch, patch, 1, scratch, pixels, y + rows * pixels, pixels, tail, patch);
    }
#if defined(__x86_64__)
    // Streaming stores are weakly ordered: make them visible before the caller
    // hands y to another thread.
    if (aligned >= 0) __builtin_ia32_sfence();
#endif
}

INLINE void grad_input_image(const dc_shape *s, const float *gy, const float *w, float *dx, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    float *tail = scratch + patch * pixels, *padded = tail + tail_rows(s) * NR;
    // cols [patch, pixels] = wᵀ [patch, O] · gy [O, pixels]; edge_tiles does
    // the columns and rows streamed_tiles leaves.
    long rows = patch - patch % MR, count = pixels - pixels % NR, o = s->outputs;
    streamed_tiles(rows, count, o, w, 1, patch, gy, pixels, scratch, pixels, gy + o * pixels);
    if (count < pixels) edge_tiles(rows, pixels - count, o, w, 1, patch, gy + count, pixels, scratch + count, pixels, tail, DEPTH_CHUNK);
    if (rows < patch) edge_tiles(patch - rows, pixels, o, w + rows, 1, patch, gy, pixels, scratch + rows * pixels, pixels, tail, DEPTH_CHUNK);
    col2im(s, scratch, padded, dx);
}

INLINE void grad_weight_image(const dc_shape *s, const float *x, const float *gy, double *dw, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    float *padded = scratch + patch * pixels + tail_rows(s) * NR;
    im2col(s, x, padded, scratch);
    weight_product(s->outputs, patch, pixels, gy, scratch, dw);
}

#if defined(__x86_64__)
FAST static void forward_fast(const dc_shape *s, const float *x, const float *w, float *y, float *scratch) {
    forward_image(s, x, w, y, scratch);
}
FAST static void grad_input_fast(const dc_shape *s, const float *gy, const float *w, float *dx, float *scratch) {
    grad_input_image(s, gy, w, dx, scratch);
}
FAST static void grad_weight_fast(const dc_shape *s, const float *x, const float *gy, double *dw, float *scratch) {
    grad_weight_image(s, x, gy, dw, scratch);
}

// libgcc / compiler-rt fill in the CPU model from a constructor at load time.
dc_code dc_fastest_code(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? dc_avx2_fma : dc_portable;
}
#else
#define forward_fast forward_image
#define grad_input_fast grad_input_image
#define grad_weight_fast grad_weight_image

dc_code dc_fastest_code(void) { return dc_portable; }
#endif

void dc_forward(dc_code code, const dc_shape *s, const float *x, const float *w, float *y, float *scratch) {
    if (code == dc_avx2_fma) forward_fast(s, x, w, y, scratch);
    else forward_image(s, x, w, y, scratch);
}

void dc_grad_input(dc_code code, const dc_shape *s, const float *gy, const float *w, float *dx, float *scratch) {
    if (code == dc_avx2_fma) grad_input_fast(s, gy, w, dx, scratch);
    else grad_input_image(s, gy, w, dx, scratch);
}

void dc_grad_weight(dc_code code, const dc_shape *s, const float *x, const float *gy, double *dw, float *scratch) {
    if (code == dc_avx2_fma) grad_weight_fast(s, x, gy, dw, scratch);
    else grad_weight_image(s, x, gy, dw, scratch);
}
