// swift-tools-version:6.0
// GTN-NAS: Generative Teaching Networks for neural architecture search,
// run as a resumable batch pipeline. Targets are listed in dependency order.
import PackageDescription

let package = Package(
    name: "gtn-nas",
    products: [],
    targets: [
        // MARK: - C system libraries (shims only)

        /// SQLite 3: the campaign database.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        /// OpenBLAS through its CBLAS interface: every matrix product.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        /// liblz4's block API: the blocks of artifact LZ4 frames (the frame itself is Swift code).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        /// zlib: gzip-compressed datasets and PNG images.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),

        // MARK: - Numerics and checksums

        /// SHA-256 (dataset files, pipeline hashes, job keys).
        .target(name: "Checksums"),
        /// SplitMix64, the seeding generator of dataset splits and random streams.
        .target(name: "SplitMix"),
        /// A strict JSON reader and canonical writer (pipeline files, job parameters, artifact headers).
        .target(name: "JSONText"),

        /// Float32 kernels in C, so that an AVX2+FMA instance can be picked at run time beside the
        /// portable one: direct convolutions for small patches or few outputs per pixel, the
        /// depthwise stencils and max pooling (the maxima's positions, or their values alone).
        .target(name: "CDirectConv"),
        /// glibc's mallopt, for TensorCore's HeapTuning (Swift's Glibc module does not export it).
        .target(name: "CMalloc"),
        /// Dense Float32/Float64 arrays and CPU kernels on them (BLAS, convolution,
        /// pooling, layout), plus the seeded random streams. Knows nothing of graphs.
        .target(name: "TensorCore", dependencies: ["CBLAS", "CDirectConv", "CMalloc", "SplitMix"]),
        /// Reverse-mode automatic differentiation of any order over TensorCore
        /// kernels, with gradient checkpointing.
        .target(name: "Autodiff", dependencies: ["TensorCore"]),
        /// Layers as functions of explicit parameters, parameter layouts, optimisers.
        .target(name: "NN", dependencies: ["Autodiff", "TensorCore"]),

        // MARK: - Storage

        /// Artifact files (LZ4-framed safetensors, atomic writes), dataset readers and preparation.
        .target(name: "Artifacts", dependencies: ["Checksums", "JSONText", "SplitMix", "CLZ4", "CZlib"]),

        // MARK: - Generative Teaching Networks

        /// Generator, learners, curriculum and the differentiable unrolled inner loop.
        .target(name: "GTN", dependencies: ["NN", "Autodiff", "TensorCore"]),

        // MARK: - Campaign database and stage runner

        /// SQLite wrapper, schema migrations, campaign state and the job state machine.
        .target(name: "Queue", dependencies: ["Checksums", "JSONText", "CSQLite"]),
        /// Stage runner shared by every executable: arguments, pipeline file, signals, budgets, exit codes.
        .target(name: "Pipeline", dependencies: ["Queue", "Artifacts", "JSONText"]),

        // MARK: - The contract between the stages

        /// What the six stages agree on: their names, pipeline sections, metrics, artifact paths,
        /// job parameters and results, and the generator artifact's reader and writer.
        .target(name: "StageContract", dependencies: ["Pipeline", "Queue", "Artifacts", "Checksums", "JSONText", "GTN", "TensorCore"]),

        // MARK: - Report

        /// Rank statistics with bootstrap intervals, SVG charts, PNG images and Markdown tables for the report.
        .target(name: "Report", dependencies: ["TensorCore", "CZlib"]),

        // MARK: - Pipeline stages

        /// The six stages as library code: plans, runs, and the glue between
        /// the job table, artifacts and the GTN library.
        .target(name: "Stages", dependencies: ["StageContract", "Pipeline", "Queue", "Artifacts", "Checksums", "JSONText", "GTN", "NN", "TensorCore",
                                              "Report"]),

        // MARK: - Executables

        /// `fetch-data`: verify, split and normalise the dataset into artifacts.
        .executableTarget(name: "fetch-data", dependencies: ["Stages", "Pipeline"]),
        /// `meta-train-generator`: meta-learn the generator, curriculum and inner learning rates.
        .executableTarget(name: "meta-train-generator", dependencies: ["Stages", "Pipeline"]),
        /// `propose-architectures`: sample the search space, one gtn-evaluate job per architecture.
        .executableTarget(name: "propose-architectures", dependencies: ["Stages", "Pipeline"]),
        /// `gtn-evaluate`: job worker scoring architectures on the generator's synthetic data.
        .executableTarget(name: "gtn-evaluate", dependencies: ["Stages", "Pipeline"]),
        /// `real-evaluate`: job worker training the selected architectures on real data.
        .executableTarget(name: "real-evaluate", dependencies: ["Stages", "Pipeline"]),
        /// `report`: the campaign report (report.md + images) and the rank-correlation check.
        .executableTarget(name: "report", dependencies: ["Stages", "Pipeline"]),

        /// `campaign`: init, status, retry-dead, release-expired.
        .executableTarget(name: "campaign", dependencies: ["Pipeline", "StageContract"]),
        /// `queue-worker`: test/benchmark worker draining its own trivial jobs (not a pipeline stage).
        .executableTarget(name: "queue-worker", dependencies: ["Pipeline", "Queue", "StageContract"]),

        /// `artifact-tool`: inspect and verify artifacts, run the artifact benchmark.
        .executableTarget(name: "artifact-tool", dependencies: ["Artifacts"]),
        /// Benchmarks of the numerical core and of meta-training.
        .executableTarget(name: "gtn-bench", dependencies: ["TensorCore", "Autodiff", "NN", "GTN", "Artifacts", "StageContract"]),

        // MARK: - Tests

        /// Helpers every test target shares: temporary directories, child processes, a fake clock, test pipelines.
        .target(name: "TestSupport", dependencies: ["Queue"], path: "Tests/TestSupport"),
        /// SQLite layer, migrations, job state machine, leases (fake clock).
        .testTarget(name: "QueueTests", dependencies: ["Queue", "TestSupport", "JSONText"]),
        /// End-to-end runs of the stage executables.
        .testTarget(name: "StagesTests", dependencies: ["Queue", "TestSupport", "Checksums", "StageContract", "campaign", "fetch-data", "meta-train-generator",
                                                        "propose-architectures", "gtn-evaluate", "real-evaluate", "report", "Stages", "GTN", "TensorCore"]),
        /// Arguments, pipeline files, stage runner; end-to-end runs of the built executables.
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "StageContract", "Queue", "TestSupport", "Checksums"]),

        /// Kernels against Float64 references; the OpenBLAS kernel-family choice (through `gtn-bench blas`).
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "CDirectConv", "TestSupport", "gtn-bench"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "NN", "TensorCore"]),
        .testTarget(name: "GTNTests", dependencies: ["GTN", "NN", "Autodiff", "TensorCore"]),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "Checksums", "SplitMix", "TestSupport", "artifact-tool"]),
        /// Statistics against hand-checked values; PNGs checked by pngcheck and a Python decoder; SVGs parsed as XML.
        .testTarget(name: "ReportTests", dependencies: ["Report", "TensorCore", "TestSupport"]),
    ]
)
