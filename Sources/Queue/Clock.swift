import Foundation

/// Where the queue gets "now" from. Every timestamp the queue writes (lease
/// expiry, back-off, start/end times) comes from the clock passed in, so
/// tests drive time with a fake clock instead of sleeping.
public protocol Clock: Sendable {
    /// Seconds since the Unix epoch.
    func now() -> Double
}

/// The wall clock.
public struct SystemClock: Clock {
    public init() {}
    public func now() -> Double { Date().timeIntervalSince1970 }
}
