import CZlib
import TensorCore

/// An 8-bit image, grayscale or RGB, row-major with interleaved channels.
public struct Image8: Sendable, Equatable {
    /// How many bytes make one pixel.
    public enum Format: Int, Sendable {
        case gray = 1
        case rgb = 3

        /// The PNG colour type (IHDR byte 9).
        var pngColorType: UInt8 {
            switch self {
            case .gray: 0
            case .rgb: 2
            }
        }
    }

    public let width: Int
    public let height: Int
    public let format: Format
    /// height × width × format.rawValue bytes, top row first.
    public let pixels: [UInt8]

    public init(width: Int, height: Int, format: Format, pixels: [UInt8]) {
        require(width > 0 && height > 0, "Image8: size \(width)×\(height) must be positive")
        require(pixels.count == width * height * format.rawValue,
                "Image8: \(pixels.count) bytes for a \(width)×\(height) \(format) image (expected \(width * height * format.rawValue))")
        self.width = width
        self.height = height
        self.format = format
        self.pixels = pixels
    }

    /// The image as a PNG file: signature, IHDR (bit depth 8, no interlace),
    /// one IDAT holding the zlib-compressed scanlines (each prefixed by filter
    /// type 0, "none"), IEND; every chunk carries its CRC-32.
    public func pngData() -> [UInt8] {
        let rowBytes = width * format.rawValue
        var scanlines: [UInt8] = []
        scanlines.reserveCapacity(height * (rowBytes + 1))
        for row in 0..<height {
            scanlines.append(0)
            scanlines += pixels[(row * rowBytes)..<((row + 1) * rowBytes)]
        }
        var header: [UInt8] = []
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, format.pngColorType, 0, 0, 0]   // bit depth, colour type, deflate, adaptive filtering, no interlace

        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", zlibCompressed(scanlines), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }
}

/// Tiles `tiles[row][column]` — each an image of `channels` × `height` ×
/// `width` values (channel-major, as tensors store them; 1 channel gives a
/// grayscale image, 3 an RGB one) — into one image, with a `separator`-valued
/// line one pixel wide between neighbouring tiles (none around the border).
///
/// Values may lie in any range: all tiles share one linear map of the
/// smallest finite value to 0 and the largest to 255 (so tiles stay
/// comparable); if all values are equal they map to 128. Non-finite values
/// become 0. Every row must have the same number of tiles.
public func imageGrid<S: BinaryFloatingPoint>(_ tiles: [[[S]]], channels: Int = 1, height: Int, width: Int,
                                              separator: UInt8 = 255) -> Image8 {
    let format: Image8.Format
    switch channels {
    case 1: format = .gray
    case 3: format = .rgb
    default: requirementFailure("imageGrid: channels must be 1 or 3, got \(channels)")
    }
    let rows = tiles.count, columns = tiles.first?.count ?? 0
    require(rows > 0 && columns > 0 && height > 0 && width > 0,
            "imageGrid: empty grid (\(rows) rows, \(columns) columns of \(height)×\(width) tiles)")
    let tileSize = channels * height * width
    for (r, row) in tiles.enumerated() {
        require(row.count == columns, "imageGrid: row \(r) has \(row.count) tiles, row 0 has \(columns)")
        for (c, tile) in row.enumerated() {
            require(tile.count == tileSize,
                    "imageGrid: tile [\(r)][\(c)] has \(tile.count) values, expected \(channels)×\(height)×\(width) = \(tileSize)")
        }
    }
    let finite = tiles.joined().joined().lazy.filter { $0.isFinite }.map { Double($0) }
    let low = finite.min() ?? 0, high = finite.max() ?? 0
    func byte(_ value: S) -> UInt8 {
        guard value.isFinite else { return 0 }
        guard high > low else { return 128 }
        return UInt8(((Double(value) - low) / (high - low) * 255).rounded())
    }

    let gridWidth = columns * (width + 1) - 1, gridHeight = rows * (height + 1) - 1
    var pixels = [UInt8](repeating: separator, count: gridWidth * gridHeight * channels)
    for (r, row) in tiles.enumerated() {
        for (c, tile) in row.enumerated() {
            for y in 0..<height {
                let gridY = r * (height + 1) + y
                for x in 0..<width {
                    let gridX = c * (width + 1) + x
                    for channel in 0..<channels {
                        pixels[(gridY * gridWidth + gridX) * channels + channel] = byte(tile[(channel * height + y) * width + x])
                    }
                }
            }
        }
    }
    return Image8(width: gridWidth, height: gridHeight, format: format, pixels: pixels)
}

/// Appends one PNG chunk: length, type, data, CRC-32 of type and data.
private func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
    let typeAndData = Array(type.utf8) + data
    appendBigEndian(UInt32(data.count), to: &file)
    file += typeAndData
    let crc = typeAndData.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
    appendBigEndian(UInt32(crc), to: &file)
}

private func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
    bytes += [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8),
              UInt8(truncatingIfNeeded: value)]
}

/// `bytes` as a zlib stream (RFC 1950: header, deflate data, Adler-32), at
/// the highest compression level.
private func zlibCompressed(_ bytes: [UInt8]) -> [UInt8] {
    var capacity = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = output.withUnsafeMutableBufferPointer { target in
        bytes.withUnsafeBufferPointer { source in
            compress2(target.baseAddress, &capacity, source.baseAddress, uLong(source.count), Z_BEST_COMPRESSION)
        }
    }
    // With compressBound's capacity, compress2 fails only when memory runs out.
    require(status == Z_OK, "zlib compress2 failed (code \(status))")
    return Array(output.prefix(Int(capacity)))
}
