import TensorCore
#if canImport(Glibc)
import Glibc
#endif

/// Whether new operations are recorded for differentiation, per thread.
/// Recording is on by default; `withoutGradients` turns it off (plain training
/// and evaluation), and the backward walker turns it off unless `createGraph`.
enum GradMode {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        require(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// A non-nil thread-specific value means "recording off".
    static var isEnabled: Bool { pthread_getspecific(key) == nil }

    static func with<T>(enabled: Bool, _ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(key)
        pthread_setspecific(key, enabled ? nil : UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(key, previous) }
        return try body()
    }
}

/// Runs `body` without recording operations: results carry no graph and use no
/// memory for it. Use for evaluation and for training that is not differentiated.
public func withoutGradients<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.with(enabled: false, body)
}
