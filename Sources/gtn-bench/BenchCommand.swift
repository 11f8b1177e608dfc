import Foundation
import GTN
import TensorCore

/// Argument handling of `gtn-bench`.
enum BenchCommand {
    static let usage = """
    usage: gtn-bench blas
           gtn-bench kernels [--repeat N]
           gtn-bench metagrad --steps T [--block B] [--batch N] [--width W]
           gtn-bench metatrain [--steps T] [--batch B] [--width W] [--meta-batch N]
                               [--iterations N] [--block B] [--evaluate-every K]
                               [--inner-lr X] [--meta-lr X] [--clip X] [--seed S]
                               [--curriculum learned|fresh|shuffled] [--compare 1]
                               [--learners standard|search-space]
           gtn-bench sgdstep [--batch B] [--width W] [--steps N] [--architecture ENCODING]

    blas       the OpenBLAS kernel family in use and how it was chosen (one line),
               e.g. to run other programs under the same family.
    kernels    GFLOP/s of sgemm (the machine's reference), matmul and the three
               convolution kernels at the learners' and the generator's shapes
               (conv3x3 1->64 and 64->128 of the paper's learner, batch 128;
               8->8, 32->32 and a stride-2 32->64 of search-space learners,
               batch 64; the generator's 128->64, batch 128; the paper
               learner's linear 6272->256->10),
               each with its ratio to an sgemm timed alongside at the same thread
               count, the ceiling a plain read of the kernel's inputs sets (timed
               alongside, after the same sgemm), its page faults per call, and
               the host's steal: the share of the CPUs' time the hypervisor gave
               to others while the row was measured (/proc/stat). Then max
               pooling (values, and positions for a pooling to differentiate)
               at the standard learner's 3x3/2 pools on 500 images and the
               search space's 3x3/1 on 64: GB/s of input read, beside a
               plain read of that input.
               Each figure is the best of --repeat N calls (default 30: on a
               shared machine fewer let other tenants' bursts decide).
    metagrad   wall time and peak memory (VmHWM) of one full meta-gradient: T inner
               SGD steps recorded with createGraph, then backward to the generated
               images. --block B checkpoints every B steps (0 = no recompute).
               Run one configuration per process: peak memory is per process.
    metatrain  GTN meta-training on Fashion-MNIST (Debian's dataset package):
               seconds per meta-iteration, GFLOP/s of the matrix products as a
               share of the run, peak memory, validation accuracy every K
               iterations. Defaults: the small configuration (T 16, batch 64,
               width 0.25, meta batch 128, block 4), 20 iterations. --compare 1
               then prints test accuracy after each inner step (5 fresh learners)
               next to the real-data control (learning rate chosen on validation).
               --learners search-space teaches a learner drawn from the default
               search space every meta-iteration (and evaluates on drawn ones).
    sgdstep    plain first-order training of the paper's learner on real
               Fashion-MNIST batches, as real-evaluate trains (SGD with
               momentum): median seconds per step over N steps (default 40;
               the first 5 are warm-up). Defaults: batch 64, width 1.
               --architecture ENCODING (e.g. 'w32|s1|skip=0') trains that
               search-space architecture instead.

    OPENBLAS_NUM_THREADS sets the thread count; OPENBLAS_CORETYPE the kernel family
    (unset: the best family this CPU's instruction set runs, see docs/architecture.md);
    OPENBLAS_THREAD_TIMEOUT how long (2^N clock ticks) OpenBLAS's idle workers spin
    before they sleep (unset: 4 here, at once; OpenBLAS's own default is 28).
    """

    /// The numeric options each command takes (metatrain's word options are in `run`).
    static let numericOptions: [String: Set<String>] = [
        "blas": [],
        "kernels": ["repeat"],
        "metagrad": ["steps", "block", "batch", "width"],
        "metatrain": ["steps", "batch", "width", "meta-batch", "iterations", "block", "evaluate-every",
                      "inner-lr", "meta-lr", "clip", "seed", "compare"],
        "sgdstep": ["batch", "width", "steps"],
    ]

    /// Options that take a fraction; every other one takes a whole number ≥ 0.
    static let fractionalOptions: [String: Set<String>] = ["metatrain": ["width", "inner-lr", "meta-lr", "clip"],
                                                           "sgdstep": ["width"]]

    static func run(_ args: [String]) -> Int32 {
        guard let command = args.first else { print(usage); return 2 }
        if command == "help" || args.contains(where: { $0 == "-h" || $0 == "--help" }) { print(usage); return 0 }
        guard let known = numericOptions[command] else {
            FileHandle.standardError.write("gtn-bench: unknown command '\(command)'\n\(usage)\n".data(using: .utf8)!)
            return 2
        }
        var values: [String: Double] = [:]
        // Options that take a word, with the words they accept (the first is the default): metatrain's only.
        let wordChoices = command != "metatrain" ? [:]
            : ["curriculum": CurriculumMode.allCases.map(\.rawValue), "learners": ["standard", "search-space"]]
        var words = wordChoices.mapValues { $0[0] }
        var architecture: String?   // sgdstep's only free-form word option
        var i = 1
        while i < args.count {
            if command == "sgdstep" && args[i] == "--architecture" && i + 1 < args.count {
                architecture = args[i + 1]
                i += 2
                continue
            }
            if let choices = wordChoices[String(args[i].dropFirst(2))], args[i].hasPrefix("--"), i + 1 < args.count {
                guard choices.contains(args[i + 1]) else {
                    let listed = choices.dropLast().joined(separator: ", ") + " or " + choices.last!
                    FileHandle.standardError.write("gtn-bench: \(args[i]) takes \(listed)\n".data(using: .utf8)!)
                    return 2
                }
                words[String(args[i].dropFirst(2))] = args[i + 1]
                i += 2
                continue
            }
            let flag = args[i]
            guard flag.hasPrefix("--"), i + 1 < args.count, let value = Double(args[i + 1]) else {
                FileHandle.standardError.write("gtn-bench: expected '--flag NUMBER', got '\(flag)'\n\(usage)\n".data(using: .utf8)!)
                return 2
            }
            let name = String(flag.dropFirst(2))
            guard known.contains(name) else {
                FileHandle.standardError.write("gtn-bench \(command): unknown option '\(flag)'\n\(usage)\n".data(using: .utf8)!)
                return 2
            }
            guard (fractionalOptions[command] ?? []).contains(name) || (value >= 0 && value == value.rounded()) else {
                FileHandle.standardError.write("gtn-bench \(command): \(flag) takes a whole number ≥ 0, got \(args[i + 1])\n".data(using: .utf8)!)
                return 2
            }
            values[name] = value
            i += 2
        }
        let options = values.mapValues { Int($0) }
        let atLeastOne = ["repeat", "batch"] + (command == "metagrad" ? ["width"] : [])
        if let name = atLeastOne.first(where: { (options[$0] ?? 1) < 1 }) {
            FileHandle.standardError.write("gtn-bench \(command): --\(name) must be at least 1\n".data(using: .utf8)!)
            return 2
        }
        let idleWait = BLASInfo.idleWorkerWaitApplied ? "2^\(BLASInfo.idleWorkerWait) ticks (set here)"
            : "OPENBLAS_THREAD_TIMEOUT=\(ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "unset, OpenBLAS's default")"
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(BLASKernelSelection.describe()), idle wait \(idleWait)")
        switch command {
        case "blas":
            break
        case "kernels":
            KernelBenchmark.run(repeats: options["repeat"] ?? 30)
        case "metagrad":
            guard let steps = options["steps"], steps > 0 else {
                FileHandle.standardError.write("gtn-bench metagrad: --steps T (T > 0) is required\n".data(using: .utf8)!)
                return 2
            }
            MetaGradientBenchmark.run(steps: steps, block: options["block"] ?? 0,
                                      batch: options["batch"] ?? 128, width: options["width"] ?? 1)
        case "metatrain":
            var o = MetaTrainingBenchmark.Options()
            o.steps = options["steps"] ?? o.steps
            o.batch = options["batch"] ?? o.batch
            o.width = values["width"] ?? o.width
            o.metaBatch = options["meta-batch"] ?? o.metaBatch
            o.iterations = options["iterations"] ?? o.iterations
            o.block = options["block"] ?? o.block
            o.evaluateEvery = options["evaluate-every"] ?? o.evaluateEvery
            o.innerLearningRate = values["inner-lr"] ?? o.innerLearningRate
            o.metaLearningRate = values["meta-lr"] ?? o.metaLearningRate
            o.clipNorm = values["clip"]
            o.curriculum = CurriculumMode(rawValue: words["curriculum"]!)!
            o.learners = words["learners"] == "search-space" ? .searchSpace(.standard) : .fixed
            o.compare = (options["compare"] ?? 0) != 0
            o.seed = UInt64(options["seed"] ?? Int(o.seed))
            do {
                try MetaTrainingBenchmark.run(o)
            } catch {
                FileHandle.standardError.write("gtn-bench metatrain: \(error)\n".data(using: .utf8)!)
                return 1
            }
        case "sgdstep":
            do {
                try MetaTrainingBenchmark.sgdStep(batch: options["batch"] ?? 64, width: values["width"] ?? 1,
                                                  steps: max(options["steps"] ?? 40, 6), architecture: architecture)
            } catch {
                FileHandle.standardError.write("gtn-bench sgdstep: \(error)\n".data(using: .utf8)!)
                return 1
            }
        default:
            preconditionFailure("command '\(command)' has options but no case")
        }
        return 0
    }
}

/// Seconds of the fastest of `repeats` runs of `body`.
func fastestSeconds(repeats: Int, _ body: () -> Void) -> Double {
    body()   // warm-up
    return (0..<repeats).map { _ in seconds(body) }.min() ?? .infinity
}

/// Wall-clock seconds of one run of `body`.
func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Minor page faults of this process so far (first touches of fresh memory).
func minorPageFaults() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_minflt
}

/// Clock ticks (`sysconf(_SC_CLK_TCK)` a second per CPU) that all CPUs have
/// lost so far to the hypervisor running something else: the `steal` column of
/// the `cpu` line of /proc/stat; nil where there is no such column.
func stolenTicks() -> Int? {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
    let fields = line.split(separator: " ")
    return fields.count > 8 ? Int(fields[8]) : nil
}

/// Peak resident memory of this process in MiB (VmHWM).
func peakMemoryMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
    return kib / 1024
}
