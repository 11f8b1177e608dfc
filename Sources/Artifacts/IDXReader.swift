import Foundation

/// Reads IDX files (MNIST, Fashion-MNIST, KMNIST), raw or gzip-compressed:
/// bytes 0-1 zero, byte 2 the element type (only 0x08, unsigned byte, is
/// used by these datasets), byte 3 the rank, then one big-endian `UInt32`
/// per dimension, then the elements.
enum IDXReader {
    /// Element type code of unsigned bytes.
    private static let unsignedByteType: UInt8 = 0x08

    /// The images of `imagesURL` (rank 3: count, rows, columns) paired with
    /// the labels of `labelsURL` (rank 1: count).
    static func readImageSet(images imagesURL: URL, labels labelsURL: URL) throws -> ImageSet {
        let images = try read(imagesURL, rank: 3, what: "images")
        let labels = try read(labelsURL, rank: 1, what: "labels")
        guard images.dimensions[0] == labels.dimensions[0] else {
            throw ArtifactError.invalidDataset(path: labelsURL.path, reason:
                "holds \(labels.dimensions[0]) labels but \(imagesURL.lastPathComponent) holds \(images.dimensions[0]) images")
        }
        try ImageSet.checkLabels(labels.elements, path: labelsURL.path)
        return ImageSet(channels: 1, height: images.dimensions[1], width: images.dimensions[2],
                        pixels: images.elements, labels: labels.elements)
    }

    /// Reads an IDX file of unsigned bytes with the given rank; the file must
    /// end right after the last element.
    static func read(_ url: URL, rank: Int, what: String) throws -> (dimensions: [Int], elements: [UInt8]) {
        let stream = try openByteStream(url)
        let prefix = try stream.readExactly(4, what: "the IDX magic number")
        guard prefix[0] == 0, prefix[1] == 0 else {
            throw ArtifactError.invalidDataset(path: url.path, reason: String(
                format: "wrong magic number: starts with %02x %02x, an IDX file starts with 00 00", prefix[0], prefix[1]))
        }
        guard prefix[2] == unsignedByteType else {
            throw ArtifactError.invalidDataset(path: url.path, reason: String(
                format: "element type 0x%02x is not supported (expected 0x08, unsigned byte)", prefix[2]))
        }
        guard Int(prefix[3]) == rank else {
            throw ArtifactError.invalidDataset(path: url.path, reason:
                "wrong dimensions: \(what) must have \(rank) dimension(s), the file has \(prefix[3])")
        }
        let dimensionBytes = try stream.readExactly(4 * rank, what: "the IDX dimensions")
        let dimensions = (0..<rank).map { index in
            dimensionBytes[(4 * index)..<(4 * index + 4)].reduce(0) { $0 << 8 | Int($1) }
        }
        let elementCount = dimensions.reduce(1, *)
        guard dimensions.allSatisfy({ $0 > 0 }), elementCount <= Int(Int32.max) else {
            throw ArtifactError.invalidDataset(path: url.path, reason: "wrong dimensions: \(dimensions) is not a plausible \(what) shape")
        }
        let elements = try stream.readExactly(elementCount, what: "\(what) of shape \(dimensions)")
        guard try stream.isAtEnd() else {
            throw ArtifactError.invalidDataset(path: url.path, reason: "data continues after the \(elementCount) elements that shape \(dimensions) holds")
        }
        return (dimensions, elements)
    }
}
