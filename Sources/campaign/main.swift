// campaign: the operator's view of a campaign database (status, init,
// retry-dead, release-expired, set-journal). See docs/queue.md.
import Foundation
import Pipeline
import StageContract

exit(CampaignCommand<GTNSections>.main(CommandLine.arguments))
