#include "CDirectConv.h"

#include <string.h>

// Eight floats; on a baseline x86-64 build the compiler splits each operation
// into two SSE halves, in the AVX2+FMA instances it uses one ymm register and
// contracts `acc += a * b` into an FMA.
typedef float v8 __attribute__((vector_size(32)));

// Unaligned loads and stores; macros rather than functions, which would pass
// v8 by value with a different ABI in the two instances.
#define LOAD8(p) ({ v8 loaded_; memcpy(&loaded_, (p), sizeof loaded_); loaded_; })
#define STORE8(p, v) do { v8 stored_ = (v); memcpy((p), &stored_, sizeof stored_); } while (0)

#define INLINE static inline __attribute__((always_inline))
INLINE long min_long(long a, long b) { return a < b ? a : b; }

// Tile of the products: MR rows × NR columns, 12 vector accumulators, which
// leaves 4 of the 16 vector registers for operands.
enum { MR = 3, NV = 4, NR = 8 * NV };

// Rows of b one pass of thin_product reads: more concurrent streams from
// memory slow the reads down (grad-input at the learner's first layer reading
// its 64 rows of gy at once was about 20% slower than in 4 passes of 16).
enum { DEPTH_CHUNK = 16 };

/// Rows and columns of an input plane with its zero border.
INLINE long padded_height(const dc_shape *s) { return s->height + 2 * s->padding; }
INLINE long padded_width(const dc_shape *s) { return s->width + 2 * s->padding; }

/// Rows of thin_product's tail block: the forward's depth, or grad-input's pass.
INLINE long tail_rows(const dc_shape *s) {
    long patch = s->channels * s->kernel_height * s->kernel_width;
    return patch > DEPTH_CHUNK ? patch : DEPTH_CHUNK;
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
                        for (long ox = 0; ox < wo; ox++) row[ox] = src[ox];
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
                        for (long ox = 0; ox < wo; ox++) dst[ox] += row[ox];
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

/// One MR × NR tile of a · b (see thin_product): a's rows ar, b's tile at bp
/// (rows `pitch` apart). Also prefetches the two cache lines at ahead + l·pitch
/// for every row l of b (no branch in the loop: pass bp when nothing is ahead).
INLINE void product_tile(long depth, const float *const ar[MR], long a_col, const float *bp, long pitch,
                         const float *ahead, v8 acc[MR][NV]) {
    for (long m = 0; m < MR; m++) {
        for (long j = 0; j < NV; j++) acc[m][j] = (v8){0};
    }
    for (long l = 0; l < depth; l++) {
        __builtin_prefetch(ahead + l * pitch);
        __builtin_prefetch(ahead + l * pitch + 16);
        // 12 accumulators + 3 broadcasts + 1 vector of b: all 16 registers.
        v8 am[MR];
        for (long m = 0; m < MR; m++) { float v = ar[m][l * a_col]; am[m] = (v8){v, v, v, v, v, v, v, v}; }
        for (long j = 0; j < NV; j++) {
            v8 bv = LOAD8(bp + l * pitch + 8 * j);
            for (long m = 0; m < MR; m++) acc[m][j] += am[m] * bv;
        }
    }
}

/// Stores (add = 0) or adds (add = 1) the first `height` rows and `width`
/// columns of a tile at c (rows c_pitch apart).
INLINE void store_tile(v8 acc[MR][NV], long height, long width, float *c, long c_pitch, int add) {
    if (height == MR && width == NR) {
        for (long m = 0; m < MR; m++) {
            for (long j = 0; j < NV; j++) {
                float *cj = c + m * c_pitch + 8 * j;
                STORE8(cj, add ? LOAD8(cj) + acc[m][j] : acc[m][j]);
            }
        }
        return;
    }
    float t[MR][NR];
    for (long m = 0; m < MR; m++) {
        for (long j = 0; j < NV; j++) STORE8(&t[m][8 * j], acc[m][j]);
    }
    for (long m = 0; m < height; m++) {
        for (long q = 0; q < width; q++) c[m * c_pitch + q] = add ? c[m * c_pitch + q] + t[m][q] : t[m][q];
    }
}

/// c [rows, cols] (row pitch c_pitch) = a [rows, depth] · b [depth, cols] (row
/// pitch b_pitch), where a's element (m, l) is a[m·a_row + l·a_col], so a
/// transposed matrix needs no copy. Tiles of MR × NR, in one of two orders:
/// b_streams = 0 (b small, c large): MR rows of c at a time, so c is written
/// as a few sequential streams; b_streams = 1 (b large, from memory): passes
/// over DEPTH_CHUNK rows of b, each adding to c after the first, one column
/// block at a time for all rows of c, so each block is read once and reused
/// from L1 while the next one is prefetched. A partial last tile repeats a's
/// last row and reads its columns from `tail` [rows of b in one pass, NR],
/// zero-padded, so nothing is read past b's last row.
INLINE void thin_product(long rows, long cols, long depth, const float *a, long a_row, long a_col,
                         const float *b, long b_pitch, float *c, long c_pitch, float *tail, int b_streams) {
    long full = cols - cols % NR;
    long row_tiles = (rows + MR - 1) / MR, col_tiles = (cols + NR - 1) / NR;
    long pass = b_streams ? DEPTH_CHUNK : depth;
    for (long d0 = 0; d0 < depth; d0 += pass) {
        long chunk = min_long(pass, depth - d0);
        const float *bd = b + d0 * b_pitch;
        for (long l = 0; l < chunk && full < cols; l++) {
            for (long q = 0; q < NR; q++) tail[l * NR + q] = full + q < cols ? bd[l * b_pitch + full + q] : 0;
        }
        for (long outer = 0; outer < (b_streams ? col_tiles : row_tiles); outer++) {
            for (long inner = 0; inner < (b_streams ? row_tiles : col_tiles); inner++) {
                long m0 = MR * (b_streams ? inner : outer), p0 = NR * (b_streams ? outer : inner);
                const float *ar[MR];
                for (long m = 0; m < MR; m++) ar[m] = a + min_long(m0 + m, rows - 1) * a_row + d0 * a_col;
                int partial = p0 == full;
                const float *bp = partial ? tail : bd + p0;
                long pitch = partial ? NR : b_pitch;
                v8 acc[MR][NV];
                product_tile(chunk, ar, a_col, bp, pitch, b_streams && m0 == 0 && p0 + NR < full ? bp + NR : bp, acc);
                store_tile(acc, min_long(MR, rows - m0), min_long(NR, cols - p0), c + m0 * c_pitch + p0, c_pitch, d0 > 0);
            }
        }
    }
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
        // The next GO rows of gy, GO·pixels contiguous floats, are prefetched
        // one cache line per step of the loops below, into L2 only: in L1 they
        // would evict the rows of cols that every block reuses (measured: 1.3x
        // faster than prefetching into L1).
        const float *next = o0 + GO < outs ? gy + (o0 + GO) * pixels : 0;
        long next_lines = min_long(GO, outs - o0 - GO) * pixels / 16, line = 0;
        for (long k0 = 0; k0 < patch; k0 += GK) {
            const float *cr[GK];
            for (long j = 0; j < GK; j++) cr[j] = cols + min_long(k0 + j, patch - 1) * pixels;
            v8 acc[GO][GK] = {{0}};
            for (long p = 0; p < vector_end; p += 8) {
                if (next && line < next_lines) __builtin_prefetch(next + 16 * line++, 0, 1);
                v8 cv[GK];
                for (long j = 0; j < GK; j++) cv[j] = LOAD8(cr[j] + p);
                for (long i = 0; i < GO; i++) {
                    v8 g = LOAD8(gr[i] + p);
                    for (long j = 0; j < GK; j++) acc[i][j] += g * cv[j];
                }
            }
            for (long i = 0; i < min_long(GO, outs - o0); i++) {
                for (long j = 0; j < min_long(GK, patch - k0); j++) {
                    float lanes[8];
                    STORE8(lanes, acc[i][j]);
                    double sum = 0;
                    for (long q = 0; q < 8; q++) sum += lanes[q];
                    for (long p = vector_end; p < pixels; p++) sum += (double)gr[i][p] * cr[j][p];
                    dw[(o0 + i) * patch + k0 + j] += sum;
                }
            }
        }
    }
}

// One image per call. Scratch: cols [patch, pixels], the tail block of
// thin_product [tail_rows, NR], the padded image [C, H+2p, W+2p].

INLINE void forward_image(const dc_shape *s, const float *x, const float *w, float *y, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    float *tail = scratch + patch * pixels, *padded = tail + tail_rows(s) * NR;
    im2col(s, x, padded, scratch);
    thin_product(s->outputs, pixels, patch, w, patch, 1, scratch, pixels, y, pixels, tail, 0);
}

INLINE void grad_input_image(const dc_shape *s, const float *gy, const float *w, float *dx, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    float *tail = scratch + patch * pixels, *padded = tail + tail_rows(s) * NR;
    // cols [patch, pixels] = wᵀ [patch, O] · gy [O, pixels]
    thin_product(patch, pixels, s->outputs, w, 1, patch, gy, pixels, scratch, pixels, tail, 1);
    col2im(s, scratch, padded, dx);
}

INLINE void grad_weight_image(const dc_shape *s, const float *x, const float *gy, double *dw, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    float *padded = scratch + patch * pixels + tail_rows(s) * NR;
    im2col(s, x, padded, scratch);
    weight_product(s->outputs, patch, pixels, gy, scratch, dw);
}

#if defined(__x86_64__)
#define FAST __attribute__((target("avx2,fma")))
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
