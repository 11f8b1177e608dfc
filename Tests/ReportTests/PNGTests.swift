import Foundation
import TestSupport
import Testing
@testable import Report

/// An independent PNG decoder in Python's standard library (struct + zlib):
/// checks the signature and every chunk's CRC-32, inflates the IDAT data,
/// undoes all five scanline filters and prints width, height, colour type and
/// the pixel bytes as JSON.
private let pythonDecoder = #"""
import json, struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "bad signature"
pos, idat, header, chunks = 8, b"", None, []
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
    assert crc == zlib.crc32(kind + body), "bad CRC in " + kind.decode()
    chunks.append(kind.decode())
    if kind == b"IHDR": header = struct.unpack(">IIBBBBB", body)
    if kind == b"IDAT": idat += body
    pos += 12 + length
width, height, depth, color, _, _, interlace = header
assert depth == 8 and interlace == 0
channels = {0: 1, 2: 3}[color]
raw = zlib.decompress(idat)
stride = width * channels
pixels, previous = [], [0] * stride
for row in range(height):
    kind, line = raw[row * (stride + 1)], list(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - channels] if i >= channels else 0
        b = previous[i]
        c = previous[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + a) & 255
        elif kind == 2: line[i] = (line[i] + b) & 255
        elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    pixels += line
    previous = line
print(json.dumps({"width": width, "height": height, "color": color, "chunks": chunks, "pixels": pixels}))
"""#

private struct Decoded: Decodable {
    let width: Int, height: Int, color: Int, chunks: [String], pixels: [UInt8]
}

/// Writes `image` as a PNG, checks it with `pngcheck`, and decodes it with the Python decoder.
private func writeAndDecode(_ image: Image8, in directory: TemporaryDirectory) throws -> Decoded {
    let path = directory.file("image-\(UUID().uuidString).png")
    try Data(image.pngData()).write(to: URL(fileURLWithPath: path))
    let check = try runProcess("/usr/bin/env", ["pngcheck", "-v", path])
    #expect(check.status == 0 && check.output.contains("No errors detected"), "pngcheck: \(check.output)\(check.error)")
    let decoded = try runProcess("/usr/bin/env", ["python3", "-c", pythonDecoder, path])
    #expect(decoded.status == 0, "python decoder: \(decoded.error)")
    return try JSONDecoder().decode(Decoded.self, from: Data(decoded.output.utf8))
}

@Suite struct PNGTests {
    @Test(arguments: [Image8.Format.gray, .rgb])
    func encodedImagesDecodeToTheSamePixels(_ format: Image8.Format) throws {
        let directory = TemporaryDirectory()
        let (width, height) = (37, 11)   // odd sizes: no row or chunk alignment to lean on
        let pixels = (0..<(width * height * format.rawValue)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 13) }
        let image = Image8(width: width, height: height, format: format, pixels: pixels)
        let decoded = try writeAndDecode(image, in: directory)
        #expect(decoded.width == width && decoded.height == height)
        #expect(decoded.color == (format == .gray ? 0 : 2))
        #expect(decoded.chunks == ["IHDR", "IDAT", "IEND"])
        #expect(decoded.pixels == pixels)
        #expect(image.pngData() == image.pngData())
    }

    @Test func onePixelImage() throws {
        let decoded = try writeAndDecode(Image8(width: 1, height: 1, format: .gray, pixels: [200]), in: TemporaryDirectory())
        #expect(decoded.pixels == [200])
    }

    @Test func gridTilesRescalesAndSeparates() throws {
        // 2 rows × 3 columns of 2×2 tiles; values −1…1 over the whole grid map to 0…255 (0 → 127.5 → 128).
        let tiles: [[[Float]]] = (0..<2).map { r in
            (0..<3).map { c in [-1, 0, 1, Float(r * 3 + c) / 4 - 1] }
        }
        let grid = imageGrid(tiles, height: 2, width: 2, separator: 77)
        #expect(grid.width == 3 * 3 - 1 && grid.height == 2 * 3 - 1 && grid.format == .gray)
        let s: UInt8 = 77
        // Tile (r, c)'s fourth value is (3r + c)/4 − 1, i.e. 255·(3r + c)/8 rounded: 0, 32, 64 / 96, 128, 159.
        let expected: [UInt8] = [
            0, 128, s, 0, 128, s, 0, 128,
            255, 0, s, 255, 32, s, 255, 64,
            s, s, s, s, s, s, s, s,
            0, 128, s, 0, 128, s, 0, 128,
            255, 96, s, 255, 128, s, 255, 159,
        ]
        #expect(grid.pixels == expected)
        let decoded = try writeAndDecode(grid, in: TemporaryDirectory())
        #expect(decoded.pixels == expected)
    }

    @Test func rgbGridInterleavesChannelsAndHandlesConstantAndNonFinite() {
        // One 1×1 RGB tile, channel-major (r, g, b) → interleaved pixel.
        let rgb = imageGrid([[[0, 2, 4] as [Double]]], channels: 3, height: 1, width: 1)
        #expect(rgb.format == .rgb && rgb.pixels == [0, 128, 255])
        // All values equal → mid gray; NaN → 0 and left out of the range.
        let flat = imageGrid([[[3, 3]], [[3, .nan]]] as [[[Double]]], height: 1, width: 2)
        #expect(flat.pixels == [128, 128, 255, 255, 128, 0])
    }
}
