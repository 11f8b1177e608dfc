#include "CDirectConv.h"
#include "Vectors.h"

// Depthwise stencils with stride 1: one KH×KW kernel per channel, each output
// plane from its own input plane. Every output row is a sum of KH·KW shifted
// rows of a zero-bordered copy of the input plane, accumulated in vector
// registers (8 floats, then 4, then one at a time) and stored once. Compiled
// twice, like DirectConv.c: for AVX2+FMA and for the target's baseline.

INLINE long output_height(const dc_depthwise_shape *s) { return s->height + 2 * s->padding - s->kernel_height + 1; }
INLINE long output_width(const dc_depthwise_shape *s) { return s->width + 2 * s->padding - s->kernel_width + 1; }

long dc_depthwise_scratch_count(const dc_depthwise_shape *s) {
    // The forward's and grad-weight's padded input [H+2p, W+2p] or
    // grad-input's padded gy [H+KH-1, W+KW-1] (the larger: p < KH, KW), then
    // the flipped kernel.
    long kh = s->kernel_height, kw = s->kernel_width;
    long input = (s->height + 2 * s->padding) * (s->width + 2 * s->padding);
    long gradient = (s->height + kh - 1) * (s->width + kw - 1);
    return (input > gradient ? input : gradient) + kh * kw;
}

/// padded [height + 2·border_y, width + 2·border_x] = plane [height, width]
/// inside a zero border.
INLINE void pad_plane(const float *plane, long height, long width, long border_y, long border_x, float *padded) {
    long padded_width = width + 2 * border_x;
    memset(padded, 0, sizeof(float) * (height + 2 * border_y) * padded_width);
    for (long y = 0; y < height; y++) {
        memcpy(padded + (y + border_y) * padded_width + border_x, plane + y * width, sizeof(float) * width);
    }
}

/// out [rows, columns]: out[y][x] = Σ k[ky][kx] · in[y + ky][x + kx] over
/// ky < kh, kx < kw in that order, in [rows + kh − 1, columns + kw − 1].
INLINE void stencil(const float *in, const float *k, long kh, long kw, long rows, long columns, float *out) {
    long in_width = columns + kw - 1;
    for (long y = 0; y < rows; y++) {
        float *row = out + y * columns;
        long x = 0;
        for (; x + 8 <= columns; x += 8) {
            v8 acc = {0};
            for (long ky = 0; ky < kh; ky++) {
                const float *source = in + (y + ky) * in_width + x;
                for (long kx = 0; kx < kw; kx++) acc += LOAD8(source + kx) * k[ky * kw + kx];
            }
            STORE8(row + x, acc);
        }
        for (; x + 4 <= columns; x += 4) {
            v4 acc = {0};
            for (long ky = 0; ky < kh; ky++) {
                const float *source = in + (y + ky) * in_width + x;
                for (long kx = 0; kx < kw; kx++) acc += LOAD4(source + kx) * k[ky * kw + kx];
            }
            STORE4(row + x, acc);
        }
        for (; x < columns; x++) {
            float acc = 0;
            for (long ky = 0; ky < kh; ky++) {
                for (long kx = 0; kx < kw; kx++) acc += in[(y + ky) * in_width + x + kx] * k[ky * kw + kx];
            }
            row[x] = acc;
        }
    }
}

/// Σ a[y][x] · b[y][x] over a [rows, columns] and the same-sized window of b
/// (rows of b_width floats), in 8 float lanes, then the leftover columns, in
/// double.
INLINE double window_dot(const float *a, const float *b, long b_width, long rows, long columns) {
    v8 acc = {0};
    double rest = 0;
    long vector_end = columns - columns % 8;
    for (long y = 0; y < rows; y++) {
        const float *ar = a + y * columns, *br = b + y * b_width;
        for (long x = 0; x < vector_end; x += 8) acc += LOAD8(ar + x) * LOAD8(br + x);
        for (long x = vector_end; x < columns; x++) rest += (double)ar[x] * br[x];
    }
    return lane_sum(&acc) + rest;
}

// Planes [first, first + count) of a batch of N·C planes; plane i uses
// channel i mod C's kernel. Scratch: dc_depthwise_scratch_count floats.

INLINE void forward_planes(const dc_depthwise_shape *s, long first, long count, const float *x, const float *w,
                           float *y, float *scratch) {
    long kh = s->kernel_height, kw = s->kernel_width, p = s->padding, ho = output_height(s), wo = output_width(s);
    for (long i = first; i < first + count; i++) {
        pad_plane(x + i * s->height * s->width, s->height, s->width, p, p, scratch);
        stencil(scratch, w + (i % s->channels) * kh * kw, kh, kw, ho, wo, y + i * ho * wo);
    }
}

/// dx is the stencil of gy inside a border of KH−1−p rows and KW−1−p
/// columns with the kernel turned by 180°.
INLINE void grad_input_planes(const dc_depthwise_shape *s, long first, long count, const float *gy, const float *w,
                              float *dx, float *scratch) {
    long kh = s->kernel_height, kw = s->kernel_width, p = s->padding, ho = output_height(s), wo = output_width(s);
    float *flipped = scratch + (s->height + kh - 1) * (s->width + kw - 1);
    for (long i = first; i < first + count; i++) {
        const float *k = w + (i % s->channels) * kh * kw;
        for (long t = 0; t < kh * kw; t++) flipped[t] = k[kh * kw - 1 - t];
        pad_plane(gy + i * ho * wo, ho, wo, kh - 1 - p, kw - 1 - p, scratch);
        stencil(scratch, flipped, kh, kw, s->height, s->width, dx + i * s->height * s->width);
    }
}

/// dw [N·C, KH·KW]: plane i's own sums, dw[i][ky·KW + kx] = Σ gy[y][x] ·
/// x_padded[y + ky][x + kx].
INLINE void grad_weight_planes(const dc_depthwise_shape *s, long first, long count, const float *x, const float *gy,
                               double *dw, float *scratch) {
    long kh = s->kernel_height, kw = s->kernel_width, p = s->padding, ho = output_height(s), wo = output_width(s);
    long padded_width = s->width + 2 * p;
    for (long i = first; i < first + count; i++) {
        pad_plane(x + i * s->height * s->width, s->height, s->width, p, p, scratch);
        for (long ky = 0; ky < kh; ky++) {
            for (long kx = 0; kx < kw; kx++) {
                dw[i * kh * kw + ky * kw + kx] = window_dot(gy + i * ho * wo, scratch + ky * padded_width + kx, padded_width, ho, wo);
            }
        }
    }
}

#if defined(__x86_64__)
FAST static void forward_fast(const dc_depthwise_shape *s, long first, long count, const float *x, const float *w, float *y,
                              float *scratch) {
    forward_planes(s, first, count, x, w, y, scratch);
}
FAST static void grad_input_fast(const dc_depthwise_shape *s, long first, long count, const float *gy, const float *w,
                                 float *dx, float *scratch) {
    grad_input_planes(s, first, count, gy, w, dx, scratch);
}
FAST static void grad_weight_fast(const dc_depthwise_shape *s, long first, long count, const float *x, const float *gy,
                                  double *dw, float *scratch) {
    grad_weight_planes(s, first, count, x, gy, dw, scratch);
}
#else
#define forward_fast forward_planes
#define grad_input_fast grad_input_planes
#define grad_weight_fast grad_weight_planes
#endif

void dc_depthwise_forward(dc_code code, const dc_depthwise_shape *s, long first, long count, const float *x,
                          const float *w, float *y, float *scratch) {
    if (code == dc_avx2_fma) forward_fast(s, first, count, x, w, y, scratch);
    else forward_planes(s, first, count, x, w, y, scratch);
}

void dc_depthwise_grad_input(dc_code code, const dc_depthwise_shape *s, long first, long count, const float *gy,
                             const float *w, float *dx, float *scratch) {
    if (code == dc_avx2_fma) grad_input_fast(s, first, count, gy, w, dx, scratch);
    else grad_input_planes(s, first, count, gy, w, dx, scratch);
}

void dc_depthwise_grad_weight(dc_code code, const dc_depthwise_shape *s, long first, long count, const float *x,
                              const float *gy, double *dw, float *scratch) {
    if (code == dc_avx2_fma) grad_weight_fast(s, first, count, x, gy, dw, scratch);
    else grad_weight_planes(s, first, count, x, gy, dw, scratch);
}
