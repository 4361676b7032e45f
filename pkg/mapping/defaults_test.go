package mapping

import (
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func TestDefaultMappingsValidate(t *testing.T) {
	s := crmsync.DefaultSettings()
	s.Mappings = DefaultMappings(s.DefaultRule)
	if err := s.Validate(); err != nil {
		t.Fatalf("default mappings do not validate: %v", err)
	}
	for _, pair := range [][2]crmsync.ObjectType{
		{crmsync.HSContact, crmsync.SFLead}, {crmsync.HSContact, crmsync.SFContact},
		{crmsync.HSCompany, crmsync.SFAccount}, {crmsync.HSDeal, crmsync.SFOpportunity},
	} {
		ms := For(s.Mappings, pair[0], pair[1])
		if len(ms) < 5 {
			t.Errorf("%s ⇄ %s: only %d mappings", pair[0], pair[1], len(ms))
		}
		for _, m := range ms {
			if m.Rule != crmsync.RulePreferSalesforce {
				t.Errorf("%s: rule %s", m.Key(), m.Rule)
			}
		}
	}
	if got := For(s.Mappings, crmsync.HSContact, crmsync.SFLead); got[0].HubSpotProperty != "email" || got[0].SalesforceField != "Email" {
		t.Errorf("contact ⇄ lead does not start with email: %+v", got[0])
	}
}
