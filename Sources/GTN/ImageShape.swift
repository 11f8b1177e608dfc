/// The images and classes a campaign works on, e.g. 1×28×28 with 10 classes.
public struct ImageShape: Sendable, Equatable, Codable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var classes: Int

    public init(channels: Int, height: Int, width: Int, classes: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.classes = classes
    }

    public static let mnist = ImageShape(channels: 1, height: 28, width: 28, classes: 10)
    public static let cifar10 = ImageShape(channels: 3, height: 32, width: 32, classes: 10)

    /// Shape of a batch of `n` images: [n, C, H, W].
    public func batch(_ n: Int) -> [Int] { [n, channels, height, width] }
}

/// `base · multiplier`, rounded, at least 1: channel and unit counts under a width multiplier.
func scaled(_ base: Int, _ multiplier: Double) -> Int { max(1, Int((Double(base) * multiplier).rounded())) }
