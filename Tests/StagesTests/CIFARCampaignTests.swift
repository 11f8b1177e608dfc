import Checksums
import Foundation
import TestSupport
import Testing

/// A whole campaign — all six stages — on a dataset in CIFAR-10's binary
/// format (3×32×32 colour images), generated here in miniature.
@Suite struct CIFARCampaign {
    /// `cifar-10-batches-bin/` under `directory`: five training batches of
    /// `perBatch` images and a test batch of `test`; returns each file's SHA-256 by name.
    static func writeBatches(in directory: String, perBatch: Int, test: Int) throws -> [String: String] {
        let batches = directory + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: batches, withIntermediateDirectories: true)
        var checksums: [String: String] = [:]
        for (index, (name, count)) in ((1...5).map { ("data_batch_\($0).bin", perBatch) } + [("test_batch.bin", test)]).enumerated() {
            // Pixels whose brightness follows the label.
            let bytes = DatasetFixtures.cifarBatch((0..<count).map { image in
                let label = (image + index) % 10
                return (UInt8(label), (0..<3072).map { UInt8(truncatingIfNeeded: label * 20 + ($0 &* 31 &+ image &* 7) % 40) })
            })
            try Data(bytes).write(to: URL(fileURLWithPath: batches + "/" + name))
            checksums[name] = SHA256.hash(bytes)
        }
        return checksums
    }

    @Test func allSixStagesRunOnColourImages() throws {
        let directory = TemporaryDirectory()
        let checksums = try Self.writeBatches(in: directory.file("cifar"), perBatch: 20, test: 30)
        let sha = checksums.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        let pipeline = directory.write("cifar.json", """
            {"campaign": {"name": "cifar", "seed": 3},
             "data": {"dataset": "cifar-10", "source": "\(directory.file("cifar"))", "sha256": {\(sha)},
                      "train_count": 80, "validation_count": 20},
             "queue": {"lease_seconds": 5, "backoff_seconds": 0, "backoff_max_seconds": 0, "max_attempts": 1},
             "meta_training": {"inner_steps": 2, "generator_batch": 10, "meta_batch": 10, "width": 0.0625, "noise_size": 4,
                               "iterations": 2, "checkpoint_every": 2, "evaluation_images": 10, "recompute_block": 1},
             "search": {"architectures": 6, "blocks": [1, 2], "layers_per_block": [1, 2], "widths": [4]},
             "gtn_evaluation": {"steps": 4, "validation_images": 10},
             "real_evaluation": {"top_k": 1, "calibration": 4, "steps": 8, "batch": 8,
                                 "validation_images": 10, "test_images": 10},
             "report": {"spearman_threshold": -1, "bootstrap_resamples": 1000, "precision_k": 2}}
            """)
        let arguments = ["--pipeline", pipeline, "--db", directory.file("cifar.sqlite"), "--artifacts", directory.file("art")]
        for stage in ["fetch-data", "meta-train-generator", "propose-architectures", "gtn-evaluate", "real-evaluate"] {
            let run = try runProduct(stage, arguments, in: directory, timeout: 300)
            #expect(run.termination == .exited(0), "\(stage): \(run.stdout)\n\(run.stderr)")
            if stage == "fetch-data" {
                #expect(run.stdout.contains("80 train, 20 validation, 30 test images (3x32x32)"), "\(run.stdout)")
            }
        }
        // The check may pass or fail on so tiny a campaign; either way the report is complete.
        let report = try runProduct("report", arguments, in: directory, timeout: 300)
        #expect(report.termination == .exited(0) || report.termination == .exited(3), "\(report.stdout)\n\(report.stderr)")
        let text = try String(contentsOfFile: directory.file("art/report.md"), encoding: .utf8)
        #expect(text.contains("cifar-10") && text.contains("**Check: "), "report incomplete")
        let rows = try String(contentsOfFile: directory.file("art/results.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 7, "results.csv: \(rows.count) lines")
    }
}
