// gtn-bench: performance figures of the numerical core (see docs/benchmarks.md).
import Foundation
import TensorCore

BLASKernelSelection.selectAtLaunch()
HeapTuning.keepFreedMemory()

let arguments = Array(CommandLine.arguments.dropFirst())
exit(BenchCommand.run(arguments))
