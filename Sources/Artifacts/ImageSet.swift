/// Labelled images exactly as a dataset stores them: `UInt8` pixels in
/// `[count, channels, height, width]` order and one `UInt8` class label each.
public struct ImageSet: Sendable, Equatable {
    public let count: Int
    public let channels: Int
    public let height: Int
    public let width: Int
    public let pixels: [UInt8]
    public let labels: [UInt8]

    /// Pixels per image (`channels * height * width`).
    public var imageSize: Int { channels * height * width }

    init(channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [UInt8]) {
        precondition(pixels.count == labels.count * channels * height * width,
                     "\(pixels.count) pixels do not make \(labels.count) images of \(channels)x\(height)x\(width)")
        self.count = labels.count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
    }

    /// How many images carry each label `0..<classCount`.
    public func labelCounts(classCount: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// Per-channel mean and (population) standard deviation of the pixels of
    /// the images at `indices`, in [0, 1] units (pixel / 255).
    public func channelStatistics(of indices: [Int]) -> (mean: [Double], std: [Double]) {
        let planeSize = height * width
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        pixels.withUnsafeBufferPointer { pixels in
            for index in indices {
                for channel in 0..<channels {
                    let start = index * imageSize + channel * planeSize
                    var sum: UInt64 = 0
                    var square: UInt64 = 0
                    for pixel in pixels[start..<(start + planeSize)] {
                        sum += UInt64(pixel)
                        square += UInt64(pixel) * UInt64(pixel)
                    }
                    sums[channel] += Double(sum)
                    squares[channel] += Double(square)
                }
            }
        }
        let samples = Double(indices.count * planeSize)
        let mean = sums.map { $0 / samples / 255 }
        let std = zip(squares, mean).map { square, mean in
            (max(0, square / samples / (255 * 255) - mean * mean)).squareRoot()
        }
        return (mean, std)
    }

    /// Classes a label must fall in for the datasets this module reads.
    static let classCount = 10

    /// Throws `.invalidDataset` naming `path` if a label is `>= classCount`.
    static func checkLabels(_ labels: [UInt8], path: String) throws {
        if let index = labels.firstIndex(where: { Int($0) >= classCount }) {
            throw ArtifactError.invalidDataset(path: path, reason: "label \(labels[index]) at index \(index) is not a class in 0..<\(classCount)")
        }
    }
}
