import Artifacts
import Foundation

exit(ArtifactTool.run(Array(CommandLine.arguments.dropFirst())))
