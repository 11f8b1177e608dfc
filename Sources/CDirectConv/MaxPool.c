#include "CDirectConv.h"
#include "Vectors.h"

// Max pooling, separable: each input row's first maximum over every output
// column's window, then the first of those over each window's rows; with
// where each maximum is (positions, for a pooling to differentiate) or
// without (values only, for a forward pass nothing differentiates).
// Both passes run across output columns in vector registers (8 lanes, then 4,
// then one at a time), choosing by masks rather than branches. Ties keep the
// earlier element and NaN never wins (it compares false), exactly as
// TensorCore's generic loops. Compiled twice, like DirectConv.c.

long dc_max_pool_scratch_bytes(const dc_pool_shape *s) {
    // Row maxima and where they are [H, WO]; the best value so far [WO].
    return (long)(sizeof(float) + sizeof(int32_t)) * s->height * s->output_width + (long)sizeof(float) * s->output_width;
}

/// For i < count: where values[i] > best[i], best[i] = values[i] and, unless
/// index is null, index[i] = the candidate index: candidates[i], or without
/// candidates first_index + i · index_step.
INLINE void keep_larger(const float *values, const int32_t *candidates, int32_t first_index, int32_t index_step,
                        long count, float *best, int32_t *index) {
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        v8 value = LOAD8(values + i), old = LOAD8(best + i);
        i8 larger = value > old;
        STORE8(best + i, (v8)(((i8)value & larger) | ((i8)old & ~larger)));
        if (!index) continue;
        i8 lanes = {0, 1, 2, 3, 4, 5, 6, 7};
        i8 candidate = candidates ? LOADI8(candidates + i) : first_index + (lanes + (int32_t)i) * index_step;
        STOREI8(index + i, (candidate & larger) | (LOADI8(index + i) & ~larger));
    }
    for (; i + 4 <= count; i += 4) {
        v4 value = LOAD4(values + i), old = LOAD4(best + i);
        i4 larger = value > old;
        STORE4(best + i, (v4)(((i4)value & larger) | ((i4)old & ~larger)));
        if (!index) continue;
        i4 lanes = {0, 1, 2, 3};
        i4 candidate = candidates ? LOADI4(candidates + i) : first_index + (lanes + (int32_t)i) * index_step;
        STOREI4(index + i, (candidate & larger) | (LOADI4(index + i) & ~larger));
    }
    for (; i < count; i++) {
        int larger = values[i] > best[i];
        best[i] = larger ? values[i] : best[i];
        if (!index) continue;
        int32_t candidate = candidates ? candidates[i] : first_index + (int32_t)i * index_step;
        index[i] = larger ? candidate : index[i];
    }
}

/// maxima[ox], where[ox] for every output column ox of input row y, `line`
/// [W]: its window's first maximum and (unless where is null) that element's
/// index in the plane, y·W + its column.
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
            int32_t *run_where = where ? where + ox : NULL;
            for (long i = 0; run_where && i < count; i++) run_where[i] = (int32_t)(row_start + start + i);
            for (long tap = 1; tap < k; tap++) {
                keep_larger(line + start + tap, NULL, (int32_t)(row_start + start + tap), 1, count, maxima + ox, run_where);
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
        if (where) where[ox] = (int32_t)(row_start + column);
    }
}

/// Planes [first, first + count) of x [planes, H, W] → positions [planes,
/// HO, WO] or, when positions is null, the maxima themselves into values
/// [planes, HO, WO] (the same bits as x at those positions).
INLINE void pool_planes(const dc_pool_shape *s, long first, long count, const float *x, int32_t *positions,
                        float *values, void *scratch) {
    long h = s->height, w = s->width, ho = s->output_height, wo = s->output_width;
    float *row_max = scratch, *best = row_max + h * wo;
    int32_t *row_where = (int32_t *)(best + wo);
    for (long plane = first; plane < first + count; plane++) {
        const float *input = x + plane * h * w;
        for (long y = 0; y < h; y++) {
            row_maxima(s, input + y * w, y, row_max + y * wo, positions ? row_where + y * wo : NULL);
        }
        int32_t plane_offset = (int32_t)(plane * h * w);
        for (long oy = 0; oy < ho; oy++) {
            long top = oy * s->stride - s->padding, bottom = top + s->kernel;
            top = top < 0 ? 0 : top;
            bottom = bottom > h ? h : bottom;
            int32_t *where = positions ? positions + (plane * ho + oy) * wo : NULL;
            float *maxima = positions ? best : values + (plane * ho + oy) * wo;
            memcpy(maxima, row_max + top * wo, sizeof(float) * wo);
            if (where) memcpy(where, row_where + top * wo, sizeof(int32_t) * wo);
            for (long row = top + 1; row < bottom; row++) {
                keep_larger(row_max + row * wo, where ? row_where + row * wo : NULL, 0, 0, wo, maxima, where);
            }
            for (long ox = 0; where && ox < wo; ox++) where[ox] += plane_offset;
        }
    }
}

#if defined(__x86_64__)
FAST static void pool_fast(const dc_pool_shape *s, long first, long count, const float *x, int32_t *positions,
                           float *values, void *scratch) {
    pool_planes(s, first, count, x, positions, values, scratch);
}
#else
#define pool_fast pool_planes
#endif

void dc_max_pool_positions(dc_code code, const dc_pool_shape *s, long first, long count, const float *x,
                           int32_t *positions, void *scratch) {
    if (code == dc_avx2_fma) pool_fast(s, first, count, x, positions, NULL, scratch);
    else pool_planes(s, first, count, x, positions, NULL, scratch);
}

void dc_max_pool_values(dc_code code, const dc_pool_shape *s, long first, long count, const float *x,
                        float *values, void *scratch) {
    if (code == dc_avx2_fma) pool_fast(s, first, count, x, NULL, values, scratch);
    else pool_planes(s, first, count, x, NULL, values, scratch);
}
