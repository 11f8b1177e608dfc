import Artifacts
import GTN
import TensorCore

/// The normalised `images` [N, C, H, W] and the `labels` of a dataset split
/// artifact (one of `CampaignArtifacts.splitFiles`, as `fetch-data` writes them).
public func labelledImages(_ archive: TensorArchive) throws -> LabelledImages {
    let images = try DatasetPreparation.normalizedImages(of: archive)
    return LabelledImages(images: NDArray(shape: images.shape, data: images.values),
                          labels: try archive.values("labels", as: Int64.self).map(Int.init))
}
