/// The published dataset file formats, for tests that write small datasets
/// of their own (what the pixels are is up to each test).
public enum DatasetFixtures {
    /// An IDX file (MNIST's format): `00 00 type rank`, big-endian dimensions,
    /// then `elements`.
    public static func idx(dimensions: [Int], elements: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
        for dimension in dimensions { bytes += withUnsafeBytes(of: UInt32(dimension).bigEndian, Array.init) }
        return bytes + elements
    }

    /// A CIFAR-10 binary batch: per image, its label byte, then its 3×32×32 pixels.
    public static func cifarBatch(_ images: [(label: UInt8, pixels: [UInt8])]) -> [UInt8] {
        images.flatMap { image in
            precondition(image.pixels.count == 3072, "a CIFAR-10 image has 3072 pixels, not \(image.pixels.count)")
            return [image.label] + image.pixels
        }
    }
}
