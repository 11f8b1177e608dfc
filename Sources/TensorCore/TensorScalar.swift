import CBLAS
import Foundation
import Synchronization

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
        BLASInfo.prepare()
        BLASInfo.countProduct(m: m, n: n, k: k)
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
        BLASInfo.prepare()
        BLASInfo.countProduct(m: m, n: n, k: k)
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
    /// Threads OpenBLAS started with (`OPENBLAS_NUM_THREADS`); the kernels'
    /// own loops use as many workers, whatever OpenBLAS runs meanwhile.
    public static let threadCount = Int(openblas_get_num_threads())
    /// Floating-point operations (2·m·n·k) of all matrix products so far, from
    /// every thread, for benchmarks.
    public static var gemmOperations: Double { Double(productOperations.load(ordering: .relaxed)) }
    private static let productOperations = Atomic<UInt64>(0)
    @inline(__always) static func countProduct(m: Int, n: Int, k: Int) {
        productOperations.wrappingAdd(UInt64(2 * m * n * k), ordering: .relaxed)
    }

    /// OpenBLAS's wait, as a power of two of clock ticks, before an idle
    /// worker sleeps, unless `OPENBLAS_THREAD_TIMEOUT` sets another.
    /// OpenBLAS's own default, 28, keeps each worker spinning for about 0.1 s
    /// after every product (103 ms of CPU time here), on the cores this
    /// process's own parallel loops need: the direct convolution kernels ran
    /// at half speed right after an sgemm (`git log -p docs/benchmarks.md`). 4 is the
    /// least OpenBLAS accepts: its workers sleep as soon as a product ends.
    public static let idleWorkerWait = 4

    /// Whether OpenBLAS's workers were restarted with `idleWorkerWait`; false
    /// when the user set `OPENBLAS_THREAD_TIMEOUT` (not empty) or this OpenBLAS build
    /// lacks the entry points (e.g. its OpenMP variant).
    public static let idleWorkerWaitApplied: Bool = {
        let userSet = getenv("OPENBLAS_THREAD_TIMEOUT").map { $0.pointee != 0 } ?? false
        guard !userSet, let library = dlopen(nil, RTLD_NOW),
              let readEnvironment = dlsym(library, "openblas_read_env"),
              let stopWorkers = dlsym(library, "blas_thread_shutdown_") else { return false }
        // OpenBLAS reads its environment when it loads, before any of this
        // code runs: set the variable, have it read again, and stop the
        // workers; the next product starts them afresh with the new wait.
        setenv("OPENBLAS_THREAD_TIMEOUT", String(idleWorkerWait), 1)
        unsafeBitCast(readEnvironment, to: (@convention(c) () -> Void).self)()
        _ = unsafeBitCast(stopWorkers, to: (@convention(c) () -> Int32).self)()
        return true
    }()

    /// Runs `body` with OpenBLAS single-threaded (`body`'s own workers each
    /// issue products), then gives it `threadCount` threads again once no
    /// caller (tests run side by side) is inside such a region.
    static func withSingleThreadedProducts(_ body: () -> Void) {
        singleThreadedRegions.withLock { regions in
            if regions == 0 { openblas_set_num_threads(1) }
            regions += 1
        }
        defer {
            singleThreadedRegions.withLock { regions in
                regions -= 1
                if regions == 0 { openblas_set_num_threads(Int32(threadCount)) }
            }
        }
        body()
    }
    private static let singleThreadedRegions = Mutex(0)

    /// Applies `idleWorkerWait` once, before the first product.
    @inline(__always) static func prepare() { _ = idleWorkerWaitApplied }
}
