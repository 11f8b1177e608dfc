import CMalloc

/// How the C allocator treats the large, short-lived arrays of the numeric
/// code: every operation returns a new array of megabytes, freed soon after.
/// glibc's defaults hand blocks that large back to the kernel when freed
/// (mmap, heap trimming), so the next one arrives as fresh pages: a page
/// fault and a zero-fill per 4 KiB, which cost more than the arithmetic of
/// an elementwise operation. Kept in the heap instead, they are reused.
public enum HeapTuning {
    /// Call first thing in `main`: blocks up to 32 MiB (glibc's largest
    /// setting) come from the heap, and freed memory stays there for reuse
    /// instead of being trimmed; the resident size then stays at its peak.
    /// A no-op off Linux.
    public static func keepFreedMemory() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_TOP_PAD, 64 << 20)
        #endif
    }
}
