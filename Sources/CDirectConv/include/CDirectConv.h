#ifndef CDIRECTCONV_H
#define CDIRECTCONV_H

#include <stdint.h>

// Float32 convolution kernels (one group) for shapes where im2col + BLAS is
// slow: few input values per output (C·KH·KW small: a 3x3 kernel on 1 or 3
// channels, where every product has a dimension of 9), few outputs, or
// grad-input with few outputs. They run their own register-tiled products on
// one image at a time. The caller splits the batch over threads; each thread
// passes its own scratch. Then the depthwise stencils (stride 1), plane by
// plane, and the positions max pooling selects, the other loop over planes
// of the search space's layers that scalar code ran slowly.
//
// Shapes, per image: input x [C,H,W], weight w [O,C,KH,KW], output y [O,HO,WO].
// Each kernel exists twice, compiled from the same source: for AVX2+FMA and
// for the baseline of the target (SSE2 on x86-64); the caller picks one,
// normally dc_fastest_code().

/// Sizes of one convolution problem (one image of the batch).
typedef struct {
    long channels, height, width;             // C, H, W
    long outputs, kernel_height, kernel_width; // O, KH, KW
    long output_height, output_width;         // HO, WO
    long stride, padding;                     // the same in both directions
    /// Nonzero: dc_forward writes y with non-temporal (streaming) stores where
    /// its rows allow, which skips reading y's cache lines before writing
    /// them; for outputs much larger than the caches.
    int stream_output;
} dc_shape;

/// Which instance of the kernels runs.
typedef enum { dc_portable, dc_avx2_fma } dc_code;

/// dc_avx2_fma when this CPU has AVX2 and FMA, else dc_portable.
dc_code dc_fastest_code(void);

/// Floats of scratch one thread needs for any of the three kernels.
long dc_scratch_count(const dc_shape *s);

/// y [O,HO,WO] = conv(x [C,H,W], w [O,C,KH,KW]) for one image.
void dc_forward(dc_code code, const dc_shape *s, const float *x, const float *w, float *y, float *scratch);

/// dx [C,H,W] = gradient of the convolution with respect to x for one image:
/// gy [O,HO,WO], w [O,C,KH,KW]. Overwrites dx.
void dc_grad_input(dc_code code, const dc_shape *s, const float *gy, const float *w, float *dx, float *scratch);

/// dw [O,C·KH·KW] += gradient of the convolution with respect to w for one
/// image: x [C,H,W], gy [O,HO,WO]. Accumulates in double across images.
void dc_grad_weight(dc_code code, const dc_shape *s, const float *x, const float *gy, double *dw, float *scratch);

/// One depthwise convolution with stride 1: a KH×KW kernel per channel,
/// w [C,1,KH,KW], each output plane [HO,WO] (HO = H + 2p − KH + 1, WO
/// likewise) from its own input plane of x [N,C,H,W].
typedef struct {
    long channels, height, width;      // C, H, W
    long kernel_height, kernel_width;  // KH, KW
    long padding;                      // p, below KH and KW
} dc_depthwise_shape;

/// Floats of scratch one thread needs for any of the three depthwise kernels.
long dc_depthwise_scratch_count(const dc_depthwise_shape *s);

/// Planes [first, first + count) of the batch's N·C (x and y point at the
/// whole arrays): y [N,C,HO,WO] = the stencils of x [N,C,H,W].
void dc_depthwise_forward(dc_code code, const dc_depthwise_shape *s, long first, long count, const float *x,
                          const float *w, float *y, float *scratch);

/// dx [N,C,H,W] for planes [first, first + count) from gy [N,C,HO,WO].
void dc_depthwise_grad_input(dc_code code, const dc_depthwise_shape *s, long first, long count, const float *gy,
                             const float *w, float *dx, float *scratch);

/// dw [N·C, KH·KW]: each plane's own weight-gradient sums, for planes
/// [first, first + count) (the caller adds the planes of a channel).
void dc_depthwise_grad_weight(dc_code code, const dc_depthwise_shape *s, long first, long count, const float *x,
                              const float *gy, double *dw, float *scratch);

/// One max pooling: square windows of `kernel` with `stride` and `padding`
/// (padding never wins) over planes [H, W], outputs [HO, WO].
typedef struct {
    long height, width;                // H, W
    long kernel, stride, padding;
    long output_height, output_width;  // HO, WO
} dc_pool_shape;

/// Bytes of scratch one thread needs for dc_max_pool_positions or dc_max_pool_values.
long dc_max_pool_scratch_bytes(const dc_pool_shape *s);

/// positions [N·C, HO, WO] for planes [first, first + count) of x [N·C, H, W]
/// (both point at the whole arrays): the flat index into x of each window's
/// first maximum in row-major order (ties keep the earlier element; NaN never
/// wins over an earlier element).
void dc_max_pool_positions(dc_code code, const dc_pool_shape *s, long first, long count, const float *x,
                           int32_t *positions, void *scratch);

/// values [N·C, HO, WO] for planes [first, first + count) of x: the maxima
/// dc_max_pool_positions locates (the same bits as x there), without locating them.
void dc_max_pool_values(dc_code code, const dc_pool_shape *s, long first, long count, const float *x,
                        float *values, void *scratch);

#endif
