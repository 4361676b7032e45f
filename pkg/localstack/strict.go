package localstack

import (
	"time"

	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// The strict simulators' limits (Config.Strict), HubSpot's for a
// Professional portal's private app.
const (
	StrictHubSpotBurst       = 110
	StrictHubSpotBurstWindow = 10 * time.Second
	StrictHubSpotSearches    = 5
	StrictHubSpotDaily       = 650_000
)

// strict makes the simulators' configurations as strict as the vendors
// (issue #15 §4): HubSpot's rolling 110 requests per 10 s, 5 searches per
// second and a daily limit enforced by the portal itself (not only by
// crmsync's client), and the Salesforce org's standard Lead and Contact
// duplicate rules (Alert), as a new org ships.
func strict(hs *hubspotsim.Config, sf *salesforcesim.Config) {
	hs.BurstLimit, hs.BurstWindow = StrictHubSpotBurst, StrictHubSpotBurstWindow
	hs.SearchLimit, hs.DailyLimit = StrictHubSpotSearches, StrictHubSpotDaily
	sf.StandardDuplicateRules = true
}
