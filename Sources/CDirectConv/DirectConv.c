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
INLINE long max_long(long a, long b) { return a > b ? a : b; }
INLINE long floor_div(long a, long b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Tile of the products: MR rows × NR columns, 12 vector accumulators, which
// leaves 4 of the 16 vector registers for operands.
enum { MR = 3, NV = 4, NR = 8 * NV };

long dc_scratch_count(const dc_shape *s) {
    long patch = s->channels * s->kernel_height * s->kernel_width;
    return patch * s->output_height * s->output_width + max_long(patch, s->outputs) * NR;
}

/// Output columns ox whose input column ox·stride − padding + kx lies in [0, W): [*low, *high).
INLINE void valid_columns(const dc_shape *s, long kx, long *low, long *high) {
    *low = max_long(0, floor_div(s->padding - kx + s->stride - 1, s->stride));
    *high = max_long(*low, min_long(s->output_width, floor_div(s->width - 1 + s->padding - kx, s->stride) + 1));
}

/// cols [C·KH·KW, HO·WO] from x [C,H,W]: row (c, ky, kx) holds the input
/// value each output pixel multiplies by w[·, c, ky, kx] (0 in the padding).
INLINE void im2col(const dc_shape *s, const float *x, float *cols) {
    long wo = s->output_width, pixels = s->output_height * wo, st = s->stride;
    float *row = cols;
    for (long c = 0; c < s->channels; c++) {
        const float *plane = x + c * s->height * s->width;
        for (long ky = 0; ky < s->kernel_height; ky++) {
            for (long kx = 0; kx < s->kernel_width; kx++, row += pixels) {
                long low, high;
                valid_columns(s, kx, &low, &high);
                for (long oy = 0; oy < s->output_height; oy++) {
                    float *line = row + oy * wo;
                    long iy = oy * st - s->padding + ky;
                    if (iy < 0 || iy >= s->height) {
                        for (long ox = 0; ox < wo; ox++) line[ox] = 0;
                        continue;
                    }
                    const float *src = plane + iy * s->width - s->padding + kx;
                    for (long ox = 0; ox < low; ox++) line[ox] = 0;
                    if (st == 1) {
                        for (long ox = low; ox < high; ox++) line[ox] = src[ox];
                    } else {
                        for (long ox = low; ox < high; ox++) line[ox] = src[ox * st];
                    }
                    for (long ox = high; ox < wo; ox++) line[ox] = 0;
                }
            }
        }
    }
}

/// dx [C,H,W] = the sum of cols [C·KH·KW, HO·WO] placed back where im2col took each value from.
INLINE void col2im(const dc_shape *s, const float *cols, float *dx) {
    long wo = s->output_width, pixels = s->output_height * wo, st = s->stride;
    memset(dx, 0, sizeof(float) * s->channels * s->height * s->width);
    const float *row = cols;
    for (long c = 0; c < s->channels; c++) {
        float *plane = dx + c * s->height * s->width;
        for (long ky = 0; ky < s->kernel_height; ky++) {
            for (long kx = 0; kx < s->kernel_width; kx++, row += pixels) {
                long low, high;
                valid_columns(s, kx, &low, &high);
                for (long oy = 0; oy < s->output_height; oy++) {
                    long iy = oy * st - s->padding + ky;
                    if (iy < 0 || iy >= s->height) continue;
                    float *dst = plane + iy * s->width - s->padding + kx;
                    const float *line = row + oy * wo;
                    if (st == 1) {
                        for (long ox = low; ox < high; ox++) dst[ox] += line[ox];
                    } else {
                        for (long ox = low; ox < high; ox++) dst[ox * st] += line[ox];
                    }
                }
            }
        }
    }
}

/// c [rows, cols] (row pitch c_pitch) = a [rows, depth] · b [depth, cols] (row
/// pitch b_pitch), where a's element (m, l) is a[m·a_row + l·a_col], so a
/// transposed matrix needs no copy. Tiles of MR × NR; a partial last tile
/// repeats a's last row and reads its columns from `tail` [depth, NR],
/// zero-padded, so nothing is read past b's last row.
INLINE void thin_product(long rows, long cols, long depth, const float *a, long a_row, long a_col,
                         const float *b, long b_pitch, float *c, long c_pitch, float *tail) {
    for (long p0 = 0; p0 < cols; p0 += NR) {
        long width = min_long(NR, cols - p0);
        const float *bp = b + p0;
        long pitch = b_pitch;
        if (width < NR) {
            for (long l = 0; l < depth; l++) {
                for (long q = 0; q < NR; q++) tail[l * NR + q] = q < width ? b[l * b_pitch + p0 + q] : 0;
            }
            bp = tail;
            pitch = NR;
        }
        for (long m0 = 0; m0 < rows; m0 += MR) {
            long height = min_long(MR, rows - m0);
            const float *ar[MR];
            for (long m = 0; m < MR; m++) ar[m] = a + min_long(m0 + m, rows - 1) * a_row;
            v8 acc[MR][NV] = {{0}};
            for (long l = 0; l < depth; l++) {
                // 12 accumulators + 3 broadcasts + 1 vector of b: all 16 registers.
                v8 am[MR];
                for (long m = 0; m < MR; m++) { float v = ar[m][l * a_col]; am[m] = (v8){v, v, v, v, v, v, v, v}; }
                for (long j = 0; j < NV; j++) {
                    v8 bv = LOAD8(bp + l * pitch + 8 * j);
                    for (long m = 0; m < MR; m++) acc[m][j] += am[m] * bv;
                }
            }
            float *ct = c + m0 * c_pitch + p0;
            if (height == MR && width == NR) {
                for (long m = 0; m < MR; m++) {
                    for (long j = 0; j < NV; j++) STORE8(ct + m * c_pitch + 8 * j, acc[m][j]);
                }
            } else {
                float t[MR][NR];
                for (long m = 0; m < MR; m++) {
                    for (long j = 0; j < NV; j++) STORE8(&t[m][8 * j], acc[m][j]);
                }
                for (long m = 0; m < height; m++) {
                    for (long q = 0; q < width; q++) ct[m * c_pitch + q] = t[m][q];
                }
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
        for (long k0 = 0; k0 < patch; k0 += GK) {
            const float *cr[GK];
            for (long j = 0; j < GK; j++) cr[j] = cols + min_long(k0 + j, patch - 1) * pixels;
            v8 acc[GO][GK] = {{0}};
            for (long p = 0; p < vector_end; p += 8) {
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

// One image per call. Scratch: cols [patch, pixels], then the tail block of thin_product.

INLINE void forward_image(const dc_shape *s, const float *x, const float *w, float *y, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    im2col(s, x, scratch);
    thin_product(s->outputs, pixels, patch, w, patch, 1, scratch, pixels, y, pixels, scratch + patch * pixels);
}

INLINE void grad_input_image(const dc_shape *s, const float *gy, const float *w, float *dx, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    // cols [patch, pixels] = wᵀ [patch, O] · gy [O, pixels]
    thin_product(patch, pixels, s->outputs, w, 1, patch, gy, pixels, scratch, pixels, scratch + patch * pixels);
    col2im(s, scratch, dx);
}

INLINE void grad_weight_image(const dc_shape *s, const float *x, const float *gy, double *dw, float *scratch) {
    long patch = s->channels * s->kernel_height * s->kernel_width, pixels = s->output_height * s->output_width;
    im2col(s, x, scratch);
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
