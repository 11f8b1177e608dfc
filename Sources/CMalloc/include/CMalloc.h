#ifndef CMALLOC_H
#define CMALLOC_H

// glibc's allocator settings (mallopt and its M_* parameters), which Swift's
// Glibc module does not export. Used by TensorCore's HeapTuning only.
#include <malloc.h>

#endif
