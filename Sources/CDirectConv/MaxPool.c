#include "CDirectConv.h"
#include "Vectors.h"

// Max pooling, separable: each input row's first maximum over every window's
// columns, then the first of those over each window's rows; with where each
// maximum is (positions, for a pooling to differentiate) or without (values
// only, for a forward pass nothing differentiates). Both passes compute the
// stride-1 pooling of a whole plane as long runs over its rows laid end to
// end, in vector registers of 8 lanes, choosing by masks rather than
// branches; the windows the padding cuts are done one by one, and a stride
// keeps every stride-th row and column of the result. Ties keep the earlier
// element and NaN never wins (it compares false), exactly as TensorCore's
// generic loops. Compiled twice, like DirectConv.c.

/// The stride-1 pooling's extent along a side of `side` elements: how many
/// window positions, the cut ones at the edges included.
INLINE long stride1_extent(const dc_pool_shape *s, long side) { return side + 2 * s->padding - s->kernel + 1; }

/// The row pitch of the row maxima and of the stride-1 pooling: the input's
/// width when the window positions fit in it (kernel ≥ 2·padding + 1, the
/// usual case), so that one run across the plane's rows end to end takes the
/// whole windows of every row at once.
INLINE long pool_pitch(const dc_pool_shape *s) {
    long columns = stride1_extent(s, s->width);
    return columns > s->width ? columns : s->width;
}

long dc_max_pool_scratch_bytes(const dc_pool_shape *s) {
    // Row maxima [H, pitch] and the stride-1 pooling [HP, pitch], each with where its maxima are.
    return (long)(sizeof(float) + sizeof(int32_t)) * (s->height + stride1_extent(s, s->height)) * pool_pitch(s);
}

/// dst[i … i + 7] of run_maxima without positions.
INLINE void maxima8(const float *src, long step, long taps, float *dst, long i) {
    v8 best = LOAD8(src + i);
    for (long t = 1; t < taps; t++) {
        v8 value = LOAD8(src + i + t * step);
        i8 larger = value > best;
        best = (v8)(((i8)value & larger) | ((i8)best & ~larger));
    }
    STORE8(dst + i, best);
}

/// dst[i … i + 7] and where[i … i + 7] of run_maxima with positions.
INLINE void maxima_where8(const float *src, const int32_t *candidates, int32_t first_index, long step, long taps,
                          float *dst, int32_t *where, long i) {
    i8 lanes = {0, 1, 2, 3, 4, 5, 6, 7};
    v8 best = LOAD8(src + i);
    i8 at = candidates ? LOADI8(candidates + i) : first_index + (int32_t)i + lanes;
    for (long t = 1; t < taps; t++) {
        long j = i + t * step;
        v8 value = LOAD8(src + j);
        i8 larger = value > best, candidate = candidates ? LOADI8(candidates + j) : first_index + (int32_t)j + lanes;
        best = (v8)(((i8)value & larger) | ((i8)best & ~larger));
        at = (candidate & larger) | (at & ~larger);
    }
    STORE8(dst + i, best);
    STOREI8(where + i, at);
}

/// For i < count: dst[i] = the first maximum of src[i + t·step] over taps
/// t = 0 … taps − 1 (a later tap wins only when larger) and, unless where is
/// null, where[i] = its index: candidates[i + t·step] or, without
/// candidates, first_index + i + t·step. Eight outputs at a time; when
/// count is not a multiple of 8 the last eight overlap the ones before (the
/// same outputs again: dst never overlaps src), and fewer than 8 go one by one.
INLINE void run_maxima(const float *src, const int32_t *candidates, int32_t first_index, long step, long taps,
                       long count, float *dst, int32_t *where) {
    if (count < 8) {
        for (long i = 0; i < count; i++) {
            float best = src[i];
            int32_t at = candidates ? candidates[i] : first_index + (int32_t)i;
            for (long t = 1; t < taps; t++) {
                long j = i + t * step;
                int larger = src[j] > best;
                best = larger ? src[j] : best;
                at = larger ? (candidates ? candidates[j] : first_index + (int32_t)j) : at;
            }
            dst[i] = best;
            if (where) where[i] = at;
        }
        return;
    }
    long i = 0;
    if (!where) {
        for (; i + 8 <= count; i += 8) maxima8(src, step, taps, dst, i);
        if (i < count) maxima8(src, step, taps, dst, count - 8);
        return;
    }
    for (; i + 8 <= count; i += 8) maxima_where8(src, candidates, first_index, step, taps, dst, where, i);
    if (i < count) maxima_where8(src, candidates, first_index, step, taps, dst, where, count - 8);
}

/// Row maxima [H, pitch] of one plane `x` [H, W]: at [y, j] the first
/// maximum of row y over the columns of window position j (columns j − p …
/// j − p + K − 1 inside the row) and, unless where is null, its index in the
/// plane, y·W + its column.
INLINE void row_maxima(const dc_pool_shape *s, const float *x, float *maxima, int32_t *where) {
    long h = s->height, w = s->width, k = s->kernel, p = s->padding;
    long pitch = pool_pitch(s), columns = stride1_extent(s, w), whole = w - k + 1;
    if (whole > 0) {
        // Windows inside a row start at columns 0 … W − K and land at j = column + p. With the
        // pitch equal to W, one run over the rows end to end takes them all (the windows across
        // two rows land where the cut ones go, and are overwritten below); else one run per row.
        long runs = pitch == w ? 1 : h, run_length = pitch == w ? (h - 1) * w + whole : whole;
        for (long r = 0; r < runs; r++) {
            const float *line = x + r * w;
            float *best = maxima + r * pitch + p;
            int32_t *best_where = where ? where + r * pitch + p : NULL;
            run_maxima(line, NULL, (int32_t)(r * w), 1, k, run_length, best, best_where);
        }
    }
    // The cut windows, a column position at a time down the rows.
    long inside_end = whole > 0 ? p + whole : p;
    for (long j = 0; j < columns; j++) {
        if (j >= p && j < inside_end) { j = inside_end - 1; continue; }
        long start = j - p, end = start + k;
        start = start < 0 ? 0 : start;
        end = end > w ? w : end;
        for (long y = 0; y < h; y++) {
            const float *line = x + y * w;
            float best = line[start];
            long column = start;
            for (long i = start + 1; i < end; i++) {
                int larger = line[i] > best;
                best = larger ? line[i] : best;
                column = larger ? i : column;
            }
            maxima[y * pitch + j] = best;
            if (where) where[y * pitch + j] = (int32_t)(y * w + column);
        }
    }
}

/// The stride-1 pooling [HP, pitch] from the row maxima [H, pitch] (and,
/// unless where is null, where its maxima are, from row_where): at [i, j]
/// the first maximum over rows i − p … i − p + K − 1 inside the plane, for
/// every stride-th i. With stride 1 the positions whose rows are all inside
/// form one run over the rows end to end.
INLINE void column_maxima(const dc_pool_shape *s, const float *row_max, const int32_t *row_where,
                          float *pooled, int32_t *where) {
    long h = s->height, k = s->kernel, p = s->padding, pitch = pool_pitch(s), columns = stride1_extent(s, s->width);
    long rows = stride1_extent(s, h), whole = h - k + 1;
    long inside_end = whole > 0 ? p + whole : p;
    for (long i = 0; i < rows; i += s->stride) {
        long top = i - p, bottom = top + k, count = columns;
        if (s->stride == 1 && i == p && whole > 0) {
            count = (whole - 1) * pitch + columns;  // positions p … p + whole − 1, all rows inside
        } else if (s->stride == 1 && i > p && i < inside_end) {
            continue;
        }
        top = top < 0 ? 0 : top;
        bottom = bottom > h ? h : bottom;
        run_maxima(row_max + top * pitch, where ? row_where + top * pitch : NULL, 0, pitch, bottom - top, count,
                   pooled + i * pitch, where ? where + i * pitch : NULL);
    }
}

/// Planes [first, first + count) of x [planes, H, W] → positions [planes,
/// HO, WO] or, when positions is null, the maxima themselves into values
/// [planes, HO, WO] (the same bits as x at those positions): the stride-1
/// pooling at every stride-th row and column (written straight into the
/// output when that is all of it).
INLINE void pool_planes(const dc_pool_shape *s, long first, long count, const float *x, int32_t *positions,
                        float *values, void *scratch) {
    long h = s->height, w = s->width, ho = s->output_height, wo = s->output_width, stride = s->stride;
    long pitch = pool_pitch(s), extent = stride1_extent(s, h);
    int direct = stride == 1 && pitch == wo;
    float *row_max = scratch, *pooled_scratch = row_max + h * pitch;
    int32_t *row_where = positions ? (int32_t *)(pooled_scratch + extent * pitch) : NULL;
    int32_t *pooled_where_scratch = positions ? row_where + h * pitch : NULL;
    for (long plane = first; plane < first + count; plane++) {
        float *pooled = direct && values ? values + plane * ho * wo : pooled_scratch;
        int32_t *pooled_where = direct && positions ? positions + plane * ho * wo : pooled_where_scratch;
        row_maxima(s, x + plane * h * w, row_max, row_where);
        column_maxima(s, row_max, row_where, pooled, pooled_where);
        int32_t plane_offset = (int32_t)(plane * h * w);
        for (long oy = 0; positions && oy < ho; oy++) {
            const int32_t *source = pooled_where + oy * stride * pitch;
            int32_t *out = positions + (plane * ho + oy) * wo;
            for (long ox = 0; ox < wo; ox++) out[ox] = source[ox * stride] + plane_offset;
        }
        for (long oy = 0; values && !direct && oy < ho; oy++) {
            const float *source = pooled + oy * stride * pitch;
            float *out = values + (plane * ho + oy) * wo;
            for (long ox = 0; ox < wo; ox++) out[ox] = source[ox * stride];
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
