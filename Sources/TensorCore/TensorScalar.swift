import CBLAS
import Foundation

/// The element types tensors compute in: `Float` for work, `Double` for
/// gradient checks. Everything BLAS- or libm-specific lives behind this protocol.
public protocol TensorScalar: BinaryFloatingPoint, Sendable
where RawSignificand: FixedWidthInteger {
    /// C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C (row-major BLAS gemm).
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    /// Human-readable dtype name used in messages ("float32", "float64").
    static var dtypeName: String { get }
}

@inline(__always)
private func cblasTranspose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLASInfo.gemmOperations += 2 * Double(m) * Double(n) * Double(k)
        cblas_sgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.logf(x) }
    public static var dtypeName: String { "float32" }
}

extension Double: TensorScalar {
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLASInfo.gemmOperations += 2 * Double(m) * Double(n) * Double(k)
        cblas_dgemm(CblasRowMajor, cblasTranspose(transposeA), cblasTranspose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    public static var dtypeName: String { "float64" }
}

/// The BLAS library in use: which kernel family OpenBLAS picked and how many
/// threads it runs.
public enum BLASInfo {
    /// OpenBLAS's core name, e.g. "Haswell" or "SkylakeX" (set `OPENBLAS_CORETYPE` to choose).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// Threads OpenBLAS uses (`OPENBLAS_NUM_THREADS`); the kernels' own
    /// memory-bound loops use as many workers.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }
    /// Floating-point operations (2·m·n·k) of all matrix products so far, for
    /// benchmarks. Products are only issued from the calling thread.
    nonisolated(unsafe) public static var gemmOperations: Double = 0
}
