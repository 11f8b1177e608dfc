import Checksums
import JSONText
import Pipeline

/// The pipeline sections `keys`, each as written (or `{}` when defaulted),
/// for canonical JSON of the settings some result depends on.
public func pipelineSections(_ context: GTNStageContext, _ keys: [String]) -> [(String, JSONValue)] {
    guard case .object(let members) = context.pipeline.document else { return keys.map { ($0, .object([])) } }
    return keys.map { key in (key, members.first { $0.key == key }?.value ?? .object([])) }
}

/// SHA-256 of the canonical JSON of the pipeline sections `keys`: recorded
/// with a result, so results computed under different settings are never
/// mixed unnoticed.
public func settingsFingerprint(_ context: GTNStageContext, sections keys: [String]) -> String {
    SHA256.hash(JSONValue.object(pipelineSections(context, keys)).canonicalText)
}
