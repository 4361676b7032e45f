package salesforce

import (
	"reflect"
	"testing"
)

// FuzzParseOutboundMessage: parsing never panics, and whatever parses
// survives MarshalSOAP and parsing again unchanged.
func FuzzParseOutboundMessage(f *testing.F) {
	f.Add(readTestdata(f, "outbound-aspnet-contacts.xml"))
	f.Add(testMessage(3).MarshalSOAP())
	f.Add([]byte("\xEF\xBB\xBF" + envelope(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound">`+header+
		`<Notification><Id>04l5e00000AbCdEAAV</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`+
		`<sf:Id>00Q5e00000Ab1CdEAF</sf:Id><sf:Phone xsi:nil="true"/></sObject></Notification></notifications>`)))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseOutboundMessage(body)
		if err != nil {
			return
		}
		again, err := ParseOutboundMessage(m.MarshalSOAP())
		if err != nil {
			t.Fatalf("re-parse of our own marshalling: %v", err)
		}
		if !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, again)
		}
	})
}
