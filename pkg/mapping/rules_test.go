package mapping

import (
	"strings"
	"testing"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

func TestCheckRules(t *testing.T) {
	sf := map[crmsync.ObjectType]map[string]SalesforceField{crmsync.SFLead: {
		"Sync__c": {Name: "Sync__c", Type: "boolean"}, "Email": {Name: "Email", Type: "email"}}}
	hs := map[crmsync.ObjectType]map[string]HubSpotProperty{crmsync.HSContact: {"email": {Name: "email", Type: "string", FieldType: "text"}}}
	probs := CheckRules(map[crmsync.ObjectType]string{
		crmsync.SFLead:    "Sync__c = true AND Email LIKE '%@%'",
		crmsync.SFContact: "Nope__c = 1", // no metadata: not checked
		crmsync.HSContact: "emial IS NOT NULL",
	}, hs, sf)
	if len(probs) != 1 || probs[0].Path != "selective_sync.rules.contact" || !strings.Contains(probs[0].Message, "emial") {
		t.Errorf("problems %v, want one naming the unknown HubSpot property", probs)
	}
	if probs := CheckRules(map[crmsync.ObjectType]string{crmsync.SFLead: "Sync__c = 'yes'"}, hs, sf); len(probs) != 1 {
		t.Errorf("a text value for a checkbox: %v", probs)
	}
}
