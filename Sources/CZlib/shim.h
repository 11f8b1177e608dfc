#include <zlib.h>

/// inflateInit2 is a macro over inflateInit2_, which Swift cannot import.
static inline int czlib_inflate_init2(z_streamp stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

/// deflateInit is a macro over deflateInit_, which Swift cannot import.
static inline int czlib_deflate_init(z_streamp stream, int level) {
    return deflateInit(stream, level);
}
