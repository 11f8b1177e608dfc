// campaign: the operator's view of a campaign database (status, init,
// retry-dead, release-expired). See docs/queue.md.
import Foundation
import Pipeline

exit(CampaignCommand.main(CommandLine.arguments))
