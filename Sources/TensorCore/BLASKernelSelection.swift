import Foundation

/// Chooses OpenBLAS's kernel family from what the CPU can do, so that a CPU
/// newer than the OpenBLAS build does not fall back to slow kernels.
///
/// OpenBLAS picks its kernels once, when the library loads, by recognising
/// the CPU model; Debian 12's 0.3.21 does not know recent CPUs and then
/// uses Prescott (SSE3) kernels on an AVX-512 Xeon (53 against 220 GFLOP/s
/// sgemm) or Haswell ones on an AVX-512 AMD Zen 5 (about half). Since the
/// choice is made before any of our code runs, `selectAtLaunch` re-executes
/// the process with `OPENBLAS_CORETYPE` set when the family in use is worse
/// than the CPU's instruction set allows. A user's own `OPENBLAS_CORETYPE`
/// always wins.
public enum BLASKernelSelection {
    /// Kernel families by the instruction sets their kernels need, best last.
    /// Families OpenBLAS names that are not listed count as the lowest tier.
    public enum Tier: Int, Comparable, Sendable {
        case baseline = 0, avx = 1, avx2 = 2, avx512 = 3

        public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }

        /// The family to ask for when a CPU supports this tier (nil: nothing better to ask for).
        var family: String? {
            switch self {
            case .baseline: return nil
            case .avx: return "Sandybridge"
            case .avx2: return "Haswell"
            case .avx512: return "SkylakeX"
            }
        }
    }

    /// The tier of an OpenBLAS core name (`openblas_get_corename()`, any case).
    public static func tier(ofCoreName name: String) -> Tier {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        case "haswell", "zen": return .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return .avx
        default: return .baseline
        }
    }

    /// The best tier a CPU with these `/proc/cpuinfo` flags runs. AVX-512
    /// kernels (SkylakeX) use the F, CD, BW, DQ and VL subsets; AVX2 kernels
    /// (Haswell) also use FMA3.
    public static func tier(ofCPUFlags flags: Set<String>) -> Tier {
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"].allSatisfy(flags.contains) { return .avx512 }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return .avx2 }
        if flags.contains("avx") { return .avx }
        return .baseline
    }

    /// The family to switch to, or nil to keep the one in use: only when
    /// the CPU supports a better tier than `coreName`'s.
    public static func betterFamily(coreName: String, cpuFlags: Set<String>) -> String? {
        let supported = tier(ofCPUFlags: cpuFlags)
        return tier(ofCoreName: coreName) < supported ? supported.family : nil
    }

    /// Set in a re-executed process to "chosen/replaced" (e.g.
    /// "SkylakeX/Prescott"), so that it can say the choice was automatic; a
    /// user's own setting has no marker, or one naming another family.
    static let chosenMarker = "GTN_NAS_OPENBLAS_CHOICE"

    /// For tests of the restart on CPUs OpenBLAS does recognise: take this
    /// as the family OpenBLAS picked instead of asking it.
    static let pretendedPickVariable = "GTN_NAS_TEST_OPENBLAS_PICK"

    /// How the kernel family in use came about.
    public enum Origin: Equatable, Sendable {
        /// OpenBLAS's own pick, which is as good as the CPU allows (or the CPU is not x86).
        case openBLAS
        /// Chosen here from the CPU's flags (OpenBLAS's own pick was worse).
        case chosen(replacing: String)
        /// The user's `OPENBLAS_CORETYPE`.
        case user(String)
    }

    /// Call first thing in `main`, before any matrix product: when the user
    /// has not set `OPENBLAS_CORETYPE` and the CPU supports better kernels
    /// than OpenBLAS picked, re-executes this program (same arguments) with
    /// the better family set; that never returns. Otherwise returns how the
    /// family in use came about. If the re-execution itself fails, a warning
    /// is printed and the process carries on with OpenBLAS's pick.
    @discardableResult
    public static func selectAtLaunch() -> Origin {
        origin = decideAtLaunch()
        return origin
    }

    /// How the family in use came about, as `selectAtLaunch` found (`.openBLAS` before it runs).
    nonisolated(unsafe) public private(set) static var origin: Origin = .openBLAS

    private static func decideAtLaunch() -> Origin {
        let environment = ProcessInfo.processInfo.environment
        if let requested = environment["OPENBLAS_CORETYPE"], !requested.isEmpty {
            let marker = environment[chosenMarker]?.split(separator: "/", maxSplits: 1).map(String.init) ?? []
            return marker.count == 2 && marker[0] == requested ? .chosen(replacing: marker[1]) : .user(requested)
        }
        let current = environment[pretendedPickVariable] ?? BLASInfo.coreName
        guard let flags = cpuFlags(), let family = betterFamily(coreName: current, cpuFlags: flags) else { return .openBLAS }
        setenv("OPENBLAS_CORETYPE", family, 1)
        setenv(chosenMarker, "\(family)/\(current)", 1)
        reexecute()
        let failure = errno
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(chosenMarker)
        let warning = "warning: could not restart with OPENBLAS_CORETYPE=\(family) (errno \(failure)); using OpenBLAS's "
            + "\(current) kernels. HINT: set OPENBLAS_CORETYPE=\(family) yourself.\n"
        FileHandle.standardError.write(Data(warning.utf8))
        return .openBLAS
    }

    /// One line on the kernels in use, e.g. "OpenBLAS Haswell kernels (chosen
    /// for this CPU's instruction set; OpenBLAS alone picked Prescott), 2 threads".
    public static func describe(_ origin: Origin = origin) -> String {
        let how: String
        switch origin {
        case .openBLAS: how = "OpenBLAS's own pick"
        case .chosen(let replaced): how = "chosen for this CPU's instruction set; OpenBLAS alone picked \(replaced)"
        case .user(let requested): how = "OPENBLAS_CORETYPE=\(requested) set by the user"
        }
        let threads = BLASInfo.threadCount
        return "OpenBLAS \(BLASInfo.coreName) kernels (\(how)), \(threads) thread\(threads == 1 ? "" : "s")"
    }

    /// The `flags` of the first processor in `/proc/cpuinfo`; nil where there
    /// is none (not Linux, or not x86).
    static func cpuFlags() -> Set<String>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Replaces this process by a fresh run of its own executable with the
    /// same arguments and the current environment; returns only on failure.
    private static func reexecute() {
        let arguments = CommandLine.arguments
        var pointers = arguments.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        // The kernel's own link to this executable, so a moved or relative argv[0] does not matter.
        execv("/proc/self/exe", &pointers)
    }
}
