import Report
import StageContract

/// The outcome of the report's check.
enum ReportCheck: Equatable {
    case pass(String)
    case fail(String)
    /// The real evaluation has not finished, so there is nothing to check yet.
    case incomplete(String)
}

/// A cheap predictor the GTN ranking must not lose to, measured on the same
/// calibration architectures against the same truth.
struct BaselineResult: Equatable {
    /// As the report names it, e.g. "equal-compute real proxy".
    let name: String
    /// Its Spearman ρ against the truth; nil where undefined.
    let spearman: Double?
    /// Bootstrap interval of ρ(GTN) − ρ(baseline), resampling the pairs together.
    let differenceInterval: BootstrapInterval?

    /// The name in a sentence: "the parameter count", but "synflow" and
    /// "NASWOT" (names of scores take no article; a lower-case name with a space does).
    var phrase: String { name.contains(" ") && name.first?.isLowercase == true ? "the \(name)" : name }
}

/// Everything the check decides on, as recorded by the stages.
struct RankCheckFacts: Equatable {
    /// `report.spearman_threshold`.
    let threshold: Double
    /// Architectures selected for calibration.
    let calibrationSelected: Int
    /// Of those, how many have both a GTN and a real-data result (the pairs).
    let calibrationScored: Int
    /// Dead jobs of the campaign's job stages, e.g. ["gtn-evaluate": 2].
    let deadJobs: [String: Int]
    /// Stages whose results were computed under different settings.
    var mixedSettings: [String] = []
    /// GTN's Spearman ρ against the truth on the scored calibration pairs, and its interval.
    let gtnSpearman: Double?
    let gtnInterval: BootstrapInterval?
    let baselines: [BaselineResult]
}

/// The report's check, a pure function of `RankCheckFacts`.
///
/// PASS needs all of: no dead job anywhere in the campaign (a ranking with
/// holes is not the ranking the user asked for); every calibration
/// architecture scored both ways; GTN's ρ defined and at least the
/// threshold; and GTN's ρ at least each baseline's ρ on the same
/// architectures (a baseline whose ρ is undefined cannot beat it). The last
/// rule compares point estimates, so that a cheaper or equal-compute
/// predictor that ranked the sample better is never reported as a pass; the
/// bootstrap interval of the paired difference says how sure that is, and
/// the FAIL message quotes it.
/// FAIL when any stage has dead jobs (dead-job count by stage): the
/// campaign cannot finish, or finishes incomplete, until they are retried —
/// whether or not the real evaluation got as far as a ranking. nil otherwise.
func deadJobsFailure(_ deadJobs: [String: Int]) -> ReportCheck? {
    let dead = deadJobs.filter { $0.value > 0 }.sorted { $0.key < $1.key }
    guard !dead.isEmpty else { return nil }
    let list = dead.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
    return .fail("the campaign has dead jobs (\(list)), so the ranking is incomplete; "
                 + "`campaign retry-dead` and running the stages again recover them")
}

func decideRankCheck(_ facts: RankCheckFacts) -> ReportCheck {
    if let failure = deadJobsFailure(facts.deadJobs) { return failure }
    if !facts.mixedSettings.isEmpty {
        return .fail("the results of \(facts.mixedSettings.joined(separator: " and ")) were computed under different settings "
                     + "(the pipeline was changed with --force after some were done), so they cannot be ranked together; "
                     + "start a new campaign with the new pipeline")
    }
    guard facts.calibrationSelected > 0 else {
        return .fail("the calibration sample is empty (real_evaluation.calibration is 0); the GTN ranking cannot be checked")
    }
    guard facts.calibrationScored == facts.calibrationSelected else {
        return .fail("only \(facts.calibrationScored) of the \(facts.calibrationSelected) calibration architectures have both "
                     + "a GTN and a real-data result; the check needs all of them")
    }
    let stated = "GTN's Spearman ρ against real validation accuracy (n = \(facts.calibrationScored))"
    guard let rho = facts.gtnSpearman else {
        return .fail("\(stated) is undefined (fewer than 2 pairs or constant scores), so the threshold "
                     + "\(formatNumber(facts.threshold)) is not met")
    }
    let interval = facts.gtnInterval.map { " \(formatInterval($0))" } ?? ""
    let better = facts.baselines.filter { ($0.spearman ?? -.infinity) > rho }
    let betterClause = better.map { baseline in
        "\(baseline.phrase) ranks better (ρ \(formatNumber(baseline.spearman))"
            + (baseline.differenceInterval.map { "; GTN − it: \(formatNumber(rho - baseline.spearman!)), 95% interval \(formatInterval($0))" } ?? "")
            + ")"
    }.joined(separator: " and ")
    let worseThanAlternative = ": GTN's ranking is worse than a cheaper or equal-compute alternative"
    guard rho >= facts.threshold else {
        return .fail("\(stated) is \(formatNumber(rho))\(interval), below the threshold \(formatNumber(facts.threshold))"
                     + (better.isEmpty ? "" : ", and " + betterClause + worseThanAlternative))
    }
    if !better.isEmpty {
        return .fail("\(stated) is \(formatNumber(rho))\(interval), but " + betterClause + worseThanAlternative)
    }
    let beaten = facts.baselines.compactMap { b in b.spearman.map { "\(b.phrase) (\(formatNumber($0)))" } }
    return .pass("\(stated) is \(formatNumber(rho))\(interval), at least the threshold \(formatNumber(facts.threshold))"
                 + (beaten.isEmpty ? "" : " and at least " + beaten.joined(separator: " and ")))
}
