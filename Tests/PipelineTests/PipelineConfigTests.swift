import Foundation
import Pipeline
import Queue
import TestSupport
import StageContract
import Testing

/// The test pipeline with one substitution applied to its text.
private func pipeline(replacing old: String = "", with new: String = "") -> String {
    let text = testPipeline()
    return old.isEmpty ? text : text.replacingOccurrences(of: old, with: new)
}

@Suite struct PipelineConfigTests {
    @Test func decodesEverySection() throws {
        let config = try GTNPipeline(text: pipeline(), origin: "p.json")
        #expect(config.campaign.name == "test" && config.campaign.seed == 7)
        #expect(config.data.dataset == .fashionMNIST && config.data.trainCount == 55000 && config.data.validationCount == 5000)
        #expect(config.data.sha256 == nil)
        #expect(config.queue.journal == .wal && config.jobPolicy == JobPolicy(leaseSeconds: 300, maxAttempts: 3))
    }

    @Test func queueSectionIsOptionalWithDefaults() throws {
        let text = #"{"campaign": {"name": "c", "seed": 0}, "data": {"dataset": "cifar-10", "source": "https://example.org/c", "#
            + #""train_count": 45000, "validation_count": 5000, "sha256": {"a.bin": "\#(String(repeating: "0", count: 64))"}}}"#
        let config = try GTNPipeline(text: text, origin: "p.json")
        #expect(config.queue.journal == .wal && config.jobPolicy == JobPolicy())
        #expect(config.data.sha256?["a.bin"]?.count == 64)
    }

    @Test(arguments: [
        ("malformed JSON", pipeline(replacing: "\"seed\": 7", with: "\"seed\": 7,,"), "p.json: malformed JSON at line 2"),
        ("unknown root key", pipeline(replacing: "\"campaign\":", with: "\"extra\": 1, \"campaign\":"),
         "p.json: extra: unknown key; expected one of: campaign, data, gtn_evaluation, meta_training, queue, real_evaluation, report, search"),
        ("unknown nested key", pipeline(replacing: "\"seed\": 7", with: "\"seed\": 7, \"colour\": 1"),
         "p.json: campaign.colour: unknown key; expected one of: name, seed"),
        ("wrong type", pipeline(replacing: "\"seed\": 7", with: "\"seed\": \"7\""),
         "p.json: campaign.seed: expected an integer in 0...2147483647, found \"7\""),
        ("real for integer", pipeline(replacing: "\"train_count\": 55000", with: "\"train_count\": 55000.5"),
         "p.json: data.train_count: expected an integer in 1...60000, found 55000.5"),
        ("negative size", pipeline(replacing: "\"validation_count\": 5000", with: "\"validation_count\": -5"),
         "p.json: data.validation_count: expected an integer in 1...60000, found -5"),
        ("split too large", pipeline(replacing: "\"validation_count\": 5000", with: "\"validation_count\": 6000"),
         "p.json: data.validation_count: train_count + validation_count must be at most 60000"),
        ("bad choice", pipeline(replacing: "\"journal\": \"wal\"", with: "\"journal\": \"truncate\""),
         "p.json: queue.journal: expected one of \"wal\", \"delete\", found \"truncate\""),
        ("negative lease", pipeline(replacing: "\"lease_seconds\": 300.0", with: "\"lease_seconds\": -1"),
         "p.json: queue.lease_seconds: expected a number in 1.0...86400.0, found -1.0"),
        ("missing key", pipeline(replacing: "\"dataset\": \"fashion-mnist\",", with: ""),
         "p.json: data.dataset: missing required key; expected one of \"fashion-mnist\", \"mnist\", \"kmnist\", \"cifar-10\""),
        ("missing section", #"{"campaign": {"name": "c", "seed": 1}}"#, "p.json: data: missing required section"),
        ("bad name", pipeline(replacing: "\"name\": \"test\"", with: "\"name\": \"a/b\""),
         "p.json: campaign.name: expected 1-64 characters"),
        ("bad digest", pipeline(replacing: "\"train_count\"", with: "\"sha256\": {\"f\": \"ABC\"}, \"train_count\""),
         "p.json: data.sha256.f: expected 64 lowercase hex digits, found \"ABC\""),
        ("not an object", "[1, 2]", "p.json: expected an object ({...}), found an array"),
    ])
    func rejectsBadInputNamingTheField(problem: String, text: String, message: String) {
        #expect(problem.isEmpty == false)
        #expect {
            _ = try GTNPipeline(text: text, origin: "p.json")
        } throws: { error in
            "\(error)".hasPrefix(message)
        }
    }

    @Test func missingFileIsAnInputError() {
        #expect {
            _ = try GTNPipeline.load(path: "/nonexistent/p.json")
        } throws: { error in
            error is InputError && "\(error)".contains("pipeline file /nonexistent/p.json does not exist")
        }
    }
}
