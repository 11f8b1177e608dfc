import Foundation
import TestSupport
@testable import TensorCore
import Testing

/// OpenBLAS's kernel family follows the CPU's instruction set, not OpenBLAS's
/// list of CPU models it knows (`BLASKernelSelection`).
@Suite struct BLASKernelSelectionTests {
    static let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]
    static let avx512 = avx2.union(["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"])

    @Test func familyFollowsTheInstructionSet() {
        typealias S = BLASKernelSelection
        // Debian 12's OpenBLAS on an AVX-512 Xeon it does not know, and on AMD Zen 4/5.
        #expect(S.betterFamily(coreName: "Prescott", cpuFlags: Self.avx512) == "SkylakeX")
        #expect(S.betterFamily(coreName: "Zen", cpuFlags: Self.avx512) == "SkylakeX")
        #expect(S.betterFamily(coreName: "Prescott", cpuFlags: Self.avx2) == "Haswell")
        #expect(S.betterFamily(coreName: "Nehalem", cpuFlags: ["sse3", "avx"]) == "Sandybridge")
        // Already as good as the CPU allows, or better than we would ask for: keep.
        for (core, flags) in [("Zen", Self.avx2), ("Haswell", Self.avx2), ("SkylakeX", Self.avx512),
                              ("SapphireRapids", Self.avx512), ("Prescott", ["sse3"]), ("Prescott", [])] {
            #expect(S.betterFamily(coreName: core, cpuFlags: flags) == nil, "\(core) on \(flags.sorted())")
        }
        // AVX-512 without all the subsets SkylakeX kernels use (Xeon Phi lacks BW, DQ, VL): AVX2 kernels.
        #expect(S.tier(ofCPUFlags: Self.avx2.union(["avx512f", "avx512cd"])) == .avx2)
        #expect(S.tier(ofCoreName: "skylakex") == .avx512 && S.tier(ofCoreName: "Atom") == .baseline)
    }

    /// The family `gtn-bench blas` reports, and how it says it was chosen.
    func blasLine(_ environment: [String: String?]) throws -> (core: String, line: String) {
        let directory = TemporaryDirectory()
        let result = try runProduct("gtn-bench", ["blas"], in: directory, timeout: 60, environment: environment)
        #expect(result.termination == .exited(0), "\(result.stderr)")
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("machine:") }.map(String.init) ?? ""
        let core = line.components(separatedBy: "OpenBLAS ").dropFirst().first?.components(separatedBy: " kernels").first ?? ""
        return (core, line)
    }

    /// On this machine, whatever it is, the executables run the best tier the CPU supports.
    @Test func executablesUseTheBestTierOfThisCPU() throws {
        let flags = try #require(BLASKernelSelection.cpuFlags())
        let picked = try blasLine(["OPENBLAS_CORETYPE": nil, BLASKernelSelection.chosenMarker: nil])
        #expect(BLASKernelSelection.tier(ofCoreName: picked.core) >= BLASKernelSelection.tier(ofCPUFlags: flags), "\(picked.line)")
        #expect(!picked.line.contains("set by the user"), "\(picked.line)")
    }

    /// A user's `OPENBLAS_CORETYPE` always wins, even over a better family.
    @Test func theUsersChoiceWins() throws {
        let user = try blasLine(["OPENBLAS_CORETYPE": "Prescott", BLASKernelSelection.chosenMarker: nil])
        #expect(user.core == "Prescott" && user.line.contains("OPENBLAS_CORETYPE=Prescott set by the user"), "\(user.line)")
    }

    /// The restart itself, on a CPU OpenBLAS recognises: pretend it picked
    /// Prescott; the process comes back with the CPU's best family.
    @Test func aWorsePickRestartsWithTheBetterFamily() throws {
        let flags = try #require(BLASKernelSelection.cpuFlags())
        let best = BLASKernelSelection.tier(ofCPUFlags: flags)
        let restarted = try blasLine(["OPENBLAS_CORETYPE": nil, BLASKernelSelection.chosenMarker: nil,
                                      BLASKernelSelection.pretendedPickVariable: "Prescott"])
        if let family = best.family {
            #expect(restarted.core.lowercased() == family.lowercased(), "\(restarted.line)")
            #expect(restarted.line.contains("OpenBLAS alone picked Prescott"), "\(restarted.line)")
        } else {
            #expect(restarted.line.contains("OpenBLAS's own pick"), "\(restarted.line)")
        }
    }
}
