import Foundation

/// Reads CIFAR-10's binary version: records of one label byte followed by
/// 3,072 pixel bytes (1,024 red, 1,024 green, 1,024 blue, rows of 32), in
/// `data_batch_1.bin` ... `data_batch_5.bin` (training) and `test_batch.bin`
/// (test), either extracted or inside `cifar-10-binary.tar.gz`.
enum CIFAR10Reader {
    static let trainingBatches = (1...5).map { "data_batch_\($0).bin" }
    static let testBatch = "test_batch.bin"
    static let archiveName = "cifar-10-binary.tar.gz"
    private static let side = 32
    private static let recordSize = 1 + 3 * side * side

    /// Training and test sets from the archive at `url` (entries are matched
    /// by file name, whatever directory they are in).
    static func readArchive(_ url: URL) throws -> (train: ImageSet, test: ImageSet) {
        var tar = TarReader(stream: try openByteStream(url))
        var batches: [String: [UInt8]] = [:]
        while let entry = try tar.next() {
            let name = String(entry.name.split(separator: "/").last ?? "")
            if trainingBatches.contains(name) || name == testBatch { batches[name] = entry.content }
        }
        func batch(_ name: String) throws -> (String, [UInt8]) {
            guard let content = batches[name] else {
                throw ArtifactError.invalidDataset(path: url.path, reason: "archive has no \(name)")
            }
            return ("\(url.path):\(name)", content)
        }
        return (try decode(trainingBatches.map(batch)), try decode([batch(testBatch)]))
    }

    /// Training and test sets from extracted batch files.
    static func readBatches(train: [URL], test: URL) throws -> (train: ImageSet, test: ImageSet) {
        func load(_ url: URL) throws -> (String, [UInt8]) { (url.path, try openByteStream(url).readToEnd()) }
        return (try decode(train.map(load)), try decode([load(test)]))
    }

    /// Concatenates batches (path for errors, bytes) into one image set.
    private static func decode(_ batches: [(path: String, bytes: [UInt8])]) throws -> ImageSet {
        var pixels: [UInt8] = []
        var labels: [UInt8] = []
        for (path, bytes) in batches {
            guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
                throw ArtifactError.invalidDataset(path: path, reason:
                    "wrong dimensions: size \(bytes.count) bytes is not a positive multiple of \(recordSize) (1 label byte + 3x32x32 pixel bytes per image)")
            }
            let count = bytes.count / recordSize
            pixels.reserveCapacity(pixels.count + count * (recordSize - 1))
            var batchLabels: [UInt8] = []
            for record in 0..<count {
                let start = record * recordSize
                batchLabels.append(bytes[start])
                pixels += bytes[(start + 1)..<(start + recordSize)]
            }
            try ImageSet.checkLabels(batchLabels, path: path)
            labels += batchLabels
        }
        return ImageSet(channels: 3, height: side, width: side, pixels: pixels, labels: labels)
    }
}
