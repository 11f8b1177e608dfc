import Foundation

/// Times writing and reading the Fashion-MNIST training split (50,000 x 784
/// pixels) as an artifact against gunzipping the original IDX files.
/// Figures go to standard output; nothing here is a pass/fail test.
enum ArtifactBenchmark {
    static func run(datasetDirectory: URL, scratchDirectory: URL?) throws {
        let scratch = scratchDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("artifact-bench-\(getpid())")
        try PosixFile.createDirectories(scratch.path)
        defer { if scratchDirectory == nil { try? FileManager.default.removeItem(at: scratch) } }

        let names = DatasetKind.idxFiles
        let trainFiles = [names.trainImages, names.trainLabels]
        let allFiles = trainFiles + [names.testImages, names.testLabels]
        let gunzipTrain = try bestOf3 { try gunzip(trainFiles, in: datasetDirectory) }
        let gunzipAll = try bestOf3 { try gunzip(allFiles, in: datasetDirectory) }

        let source = DatasetSource(dataset: .fashionMNIST, location: datasetDirectory)
        let prepareStart = Date()
        let prepared = try DatasetPreparation.prepare(source: source, seed: 1, into: scratch)
        let prepareSeconds = Date().timeIntervalSince(prepareStart)
        let train = try ArtifactFile.read(prepared.trainURL)
        let copy = scratch.appendingPathComponent("bench-copy." + ArtifactFile.fileExtension)
        let write = try bestOf3 { try ArtifactFile.write(train, to: copy) }
        let read = try bestOf3 { _ = try ArtifactFile.read(copy) }
        let artifactBytes = try FileManager.default.attributesOfItem(atPath: copy.path)[.size] as? Int ?? 0
        let rawBytes = train.tensors.reduce(0) { $0 + $1.bytes.count }

        func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }
        func ms(_ time: Timing) -> String { ms(time.wall) + " (CPU " + ms(time.cpu) + ")" }
        let images = train.tensor(named: "images")!
        print("training split artifact: images \(images.shape) \(images.dtype.rawValue), \(rawBytes) bytes raw, \(artifactBytes) bytes on disk (ratio \(String(format: "%.2f", Double(rawBytes) / Double(artifactBytes))))")
        print("write (compress + fsync + rename): \(ms(write))")
        print("read (decompress + verify):        \(ms(read))")
        print("write + read:                      \(ms(Timing(wall: write.wall + read.wall, cpu: write.cpu + read.cpu)))")
        print("gunzip train-images + train-labels: \(ms(gunzipTrain))")
        print("gunzip all four original files:     \(ms(gunzipAll))")
        print("full prepare (verify SHA-256, decode, split, normalise, write 3 artifacts): \(ms(prepareSeconds))")
        print("(best of 3 runs for each timed step; prepare timed once; CPU: user + system time of all threads in the best run)")
    }

    /// Decompresses the named gzip files with zlib, discarding the output.
    private static func gunzip(_ names: [String], in directory: URL) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for name in names {
            let stream = try openByteStream(directory.appendingPathComponent(name))
            while try chunk.withUnsafeMutableBytes({ try stream.read(into: $0) }) > 0 {}
        }
    }

    /// Wall-clock and CPU seconds of one run.
    private struct Timing {
        var wall: Double
        var cpu: Double
    }

    /// The run with the least wall-clock time of three.
    private static func bestOf3(_ body: () throws -> Void) throws -> Timing {
        var best = Timing(wall: .infinity, cpu: 0)
        for _ in 0..<3 {
            let start = Date(), startCPU = cpuSeconds()
            try body()
            let run = Timing(wall: Date().timeIntervalSince(start), cpu: cpuSeconds() - startCPU)
            if run.wall < best.wall { best = run }
        }
        return best
    }

    /// User + system time of the whole process so far.
    private static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
