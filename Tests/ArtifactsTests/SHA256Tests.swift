import Checksums
import Foundation
import SplitMix
import Testing
import TestSupport
@testable import Artifacts

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ])
    func standardVectors(message: String, digest: String) {
        #expect(SHA256.hash(Array(message.utf8)) == digest)
    }

    @Test func oneMillionA() {
        #expect(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every split of a message into two updates gives the one-shot digest,
    /// across block boundaries and padding lengths 0...129.
    @Test func incrementalUpdatesMatchOneShot() {
        for length in 0...129 {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let expected = SHA256.hash(message)
            for split in stride(from: 0, through: length, by: 7) {
                var hasher = SHA256()
                hasher.update(Array(message[..<split]))
                hasher.update(Array(message[split...]))
                #expect(hasher.finalize() == expected, "length \(length), split \(split)")
            }
        }
    }

    @Test func fileHashMatchesSha256sum() throws {
        let directory = TemporaryDirectory()
        var generator = SplitMix64(seed: 42)
        let bytes = (0..<3_000_001).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let url = try directory.write(bytes, to: "random.bin")
        let result = try runProcess("/usr/bin/sha256sum", [url.path])
        #expect(result.status == 0)
        #expect(try SHA256.hash(fileAt: url) == String(result.output.prefix(64)))
    }
}

@Suite struct SplitMix64Tests {
    /// Reference outputs of Vigna's splitmix64.c for seed 0.
    @Test func referenceSequence() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func boundedValuesStayInRangeAndPermutationIsComplete() {
        var generator = SplitMix64(seed: 7)
        for bound: UInt64 in [1, 2, 3, 10, 1000, UInt64.max] {
            for _ in 0..<1000 { #expect(generator.next(below: bound) < bound) }
        }
        var first = SplitMix64(seed: 7)
        var second = SplitMix64(seed: 7)
        let permutation = first.permutation(of: 1000)
        #expect(permutation.sorted() == Array(0..<1000))
        #expect(second.permutation(of: 1000) == permutation)
    }
}
