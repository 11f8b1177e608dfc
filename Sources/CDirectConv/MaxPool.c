#include "CDirectConv.h"
#include "Vectors.h"

// Max-pooling positions, separable: each input row's first maximum over every
// output column's window, then the first of those over each window's rows.
// Both passes run across output columns in vector registers (8 lanes, then 4,
// then one at a time), choosing by masks rather than branches. Ties keep the
// earlier element and NaN never wins (it compares false), exactly as
// TensorCore's generic loops. Compiled twice, like DirectConv.c.

long dc_max_pool_scratch_bytes(const dc_pool_shape *s) {
    // Row maxima and where they are [H, WO]; the best value so far [WO].
    return (long)(sizeof(float) + sizeof(int32_t)) * s->height * s->output_width + (long)sizeof(float) * s->output_width;
}

/// For i < count: where values[i] > best[i], best[i] = values[i] and
/// index[i] = the candidate index: candidates[i], or without candidates
/// first_index + i · index_step.
INLINE void keep_larger(const float *values, const int32_t *candidates, int32_t first_index, int32_t index_step,
                        long count, float *best, int32_t *index) {
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        v8 value = LOAD8(values + i), old = LOAD8(best + i);
        i8 larger = value > old;
        i8 lanes = {0, 1, 2, 3, 4, 5, 6, 7};
        i8 candidate = candidates ? LOADI8(candidates + i) : first_index + (lanes + (int32_t)i) * index_step;
        STORE8(best + i, (v8)(((i8)value & larger) | ((i8)old & ~larger)));
        STOREI8(index + i, (candidate & larger) | (LOADI8(index + i) & ~larger));
    }
    for (; i + 4 <= count; i += 4) {
        v4 value = LOAD4(values + i), old = LOAD4(best + i);
        i4 larger = value > old;
        i4 lanes = {0, 1, 2, 3};
        i4 candidate = candidates ? LOADI4(candidates + i) : first_index + (lanes + (int32_t)i) * index_step;
        STORE4(best + i, (v4)(((i4)value & larger) | ((i4)old & ~larger)));
        STOREI4(index + i, (candidate & larger) | (LOADI4(index + i) & ~larger));
    }
    for (; i < count; i++) {
        int larger = values[i] > best[i];
        int32_t candidate = candidates ? candidates[i] : first_index + (int32_t)i * index_step;
        best[i] = larger ? values[i] : best[i];
        index[i] = larger ? candidate : index[i];
    }
}

/// maxima[ox], where[ox] for every output column ox of input row y, `line`
/// [W]: its window's first maximum and that element's index in the plane,
/// y·W + its column.
INLINE void row_maxima(const dc_pool_shape *s, const float *line, long y, float *maxima, int32_t *where) {
    long k = s->kernel, stride = s->stride, p = s->padding, w = s->width, row_start = y * w;
    for (long ox = 0; ox < s->output_width; ox++) {
        long start = ox * stride - p, end = start + k;
        start = start < 0 ? 0 : start;
        end = end > w ? w : end;
        if (stride == 1 && start == ox - p && end == ox - p + k) {
            // The run of whole windows from here: tap by tap across them.
            long last = w - k + p;
            long count = (last < s->output_width - 1 ? last : s->output_width - 1) - ox + 1;
            memcpy(maxima + ox, line + start, sizeof(float) * count);
            for (long i = 0; i < count; i++) where[ox + i] = (int32_t)(row_start + start + i);
            for (long tap = 1; tap < k; tap++) {
                keep_larger(line + start + tap, NULL, (int32_t)(row_start + start + tap), 1, count, maxima + ox, where + ox);
            }
            ox += count - 1;
            continue;
        }
        float best = line[start];
        long column = start;
        for (long i = start + 1; i < end; i++) {
            int larger = line[i] > best;
            best = larger ? line[i] : best;
            column = larger ? i : column;
        }
        maxima[ox] = best;
        where[ox] = (int32_t)(row_start + column);
    }
}

/// Planes [first, first + count) of x [planes, H, W] → positions [planes, HO, WO].
INLINE void positions_planes(const dc_pool_shape *s, long first, long count, const float *x, int32_t *positions,
                             void *scratch) {
    long h = s->height, w = s->width, ho = s->output_height, wo = s->output_width;
    float *row_max = scratch, *best = row_max + h * wo;
    int32_t *row_where = (int32_t *)(best + wo);
    for (long plane = first; plane < first + count; plane++) {
        const float *input = x + plane * h * w;
        for (long y = 0; y < h; y++) row_maxima(s, input + y * w, y, row_max + y * wo, row_where + y * wo);
        int32_t *output = positions + plane * ho * wo, plane_offset = (int32_t)(plane * h * w);
        for (long oy = 0; oy < ho; oy++) {
            long top = oy * s->stride - s->padding, bottom = top + s->kernel;
            top = top < 0 ? 0 : top;
            bottom = bottom > h ? h : bottom;
            int32_t *where = output + oy * wo;
            memcpy(best, row_max + top * wo, sizeof(float) * wo);
            memcpy(where, row_where + top * wo, sizeof(int32_t) * wo);
            for (long row = top + 1; row < bottom; row++) {
                keep_larger(row_max + row * wo, row_where + row * wo, 0, 0, wo, best, where);
            }
            for (long ox = 0; ox < wo; ox++) where[ox] += plane_offset;
        }
    }
}

#if defined(__x86_64__)
FAST static void positions_fast(const dc_pool_shape *s, long first, long count, const float *x, int32_t *positions,
                                void *scratch) {
    positions_planes(s, first, count, x, positions, scratch);
}
#else
#define positions_fast positions_planes
#endif

void dc_max_pool_positions(dc_code code, const dc_pool_shape *s, long first, long count, const float *x,
                           int32_t *positions, void *scratch) {
    if (code == dc_avx2_fma) positions_fast(s, first, count, x, positions, scratch);
    else positions_planes(s, first, count, x, positions, scratch);
}
