import Foundation
import Testing
import TestSupport
@testable import Artifacts
import SplitMix

/// Damaged artifacts are always rejected with a typed error naming the file:
/// flipped bytes, truncations and appended garbage, 1,200 cases in all.
@Suite struct DamageTests {
    /// What was done to the file, for failure messages.
    private enum Damage: CustomStringConvertible {
        case flip(position: Int, mask: UInt8)
        case truncate(length: Int)
        case append(count: Int)

        var description: String {
            switch self {
            case let .flip(position, mask): return "byte \(position) XOR \(mask)"
            case let .truncate(length): return "truncated to \(length) bytes"
            case let .append(count): return "\(count) garbage bytes appended"
            }
        }
    }

    /// A mixed archive whose compressed form has a frame header, compressed
    /// blocks and incompressible (stored) data.
    private func intactFile(in directory: TemporaryDirectory) throws -> [UInt8] {
        var generator = SplitMix64(seed: 99)
        var archive = sampleArchive()
        archive.append(StoredTensor(name: "noise", shape: [3000], values: (0..<3000).map { _ in Int32(truncatingIfNeeded: generator.next()) }))
        archive.append(StoredTensor(name: "ramp", shape: [50, 40], values: (0..<2000).map { Float($0 % 37) }))
        let url = directory.fileURL("intact.safetensors.lz4")
        try ArtifactFile.write(archive, to: url)
        _ = try ArtifactFile.read(url)
        return Array(try Data(contentsOf: url))
    }

    private func damages(fileSize: Int) -> [Damage] {
        var generator = SplitMix64(seed: 2024)
        func random(_ bound: Int) -> Int { Int(generator.next(below: UInt64(bound))) }
        var cases: [Damage] = []
        // Every byte of the frame header and the start of the JSON header, then random places.
        for position in 0..<128 { cases.append(.flip(position: position, mask: UInt8(1 + random(255)))) }
        for _ in 0..<472 { cases.append(.flip(position: random(fileSize), mask: UInt8(1 + random(255)))) }
        // The last bytes hold the end mark and the content checksum.
        for back in 1...8 { cases.append(.truncate(length: fileSize - back)) }
        for _ in 0..<392 { cases.append(.truncate(length: random(fileSize))) }
        for _ in 0..<200 { cases.append(.append(count: 1 + random(600))) }
        return cases
    }

    @Test func everyDamagedFileIsRejectedWithATypedErrorNamingIt() throws {
        let directory = TemporaryDirectory()
        let intact = try intactFile(in: directory)
        var generator = SplitMix64(seed: 7)
        var kinds: [String: Int] = [:]
        let cases = damages(fileSize: intact.count)
        #expect(cases.count >= 1000)
        for (index, damage) in cases.enumerated() {
            var bytes = intact
            switch damage {
            case let .flip(position, mask): bytes[position] ^= mask
            case let .truncate(length): bytes.removeSubrange(length...)
            case let .append(count): bytes += (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
            let url = try directory.write(bytes, to: "damaged-\(index).safetensors.lz4")
            do {
                let archive = try ArtifactFile.read(url)
                Issue.record("\(damage) was accepted (\(archive.tensors.count) tensors)")
            } catch let error as ArtifactError {
                #expect(error.description.contains(url.path), "\(damage): message does not name the file: \(error)")
                switch error {
                case let .damaged(_, reason):
                    kinds[String(reason.prefix(40)), default: 0] += 1
                case .notAnArtifact:
                    kinds["not an LZ4 frame", default: 0] += 1
                default:
                    Issue.record("\(damage): unexpected error kind \(error)")
                }
            } catch {
                Issue.record("\(damage): untyped error \(error)")
            }
            try FileManager.default.removeItem(at: url)
        }
        print("DamageTests: \(cases.count) damaged files rejected; reasons: \(kinds.sorted { $0.value > $1.value })")
    }

    /// A flipped bit in the end mark of a full-length file is named as such,
    /// not reported as a truncated file.
    @Test func aDamagedEndMarkIsNamed() throws {
        let directory = TemporaryDirectory()
        var bytes = try intactFile(in: directory)
        bytes[bytes.count - 8] ^= 0x01   // the end mark's first byte (the content checksum follows)
        let url = try directory.write(bytes, to: "end-mark.safetensors.lz4")
        #expect {
            _ = try ArtifactFile.read(url)
        } throws: { error in
            "\(error)".contains("the LZ4 end mark at byte \(bytes.count - 8) is damaged (it reads 1, not 0)")
                && !"\(error)".contains("truncated")
        }
    }

    @Test func verifyCommandReportsDamageWithExitStatus1() throws {
        let directory = TemporaryDirectory()
        var bytes = try intactFile(in: directory)
        let good = try runProcess(artifactToolPath, ["verify", directory.fileURL("intact.safetensors.lz4").path])
        #expect(good.status == 0, "\(good.error)")
        bytes[bytes.count / 2] ^= 0x40
        let url = try directory.write(bytes, to: "bad.safetensors.lz4")
        let bad = try runProcess(artifactToolPath, ["verify", url.path])
        #expect(bad.status == 1)
        #expect(bad.error.contains(url.path) && bad.error.contains("damaged"), "\(bad.error)")
    }
}
