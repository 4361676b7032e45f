package mapping

import "github.com/crmsync/crmsync/pkg/crmsync"

// DefaultMappings returns the field mappings a newcomer gets, with every
// rule set to rule (HubSpot's connector defaults to "Prefer Salesforce
// unless blank"). Owner is mapped separately by the engine (by user email),
// so it is not listed here.
func DefaultMappings(rule crmsync.FieldRule) []crmsync.FieldMapping {
	person := [][2]string{
		{"email", "Email"}, {"firstname", "FirstName"}, {"lastname", "LastName"},
		{"phone", "Phone"}, {"mobilephone", "MobilePhone"}, {"jobtitle", "Title"},
		{"address", "Street"}, {"city", "City"}, {"state", "State"}, {"zip", "PostalCode"},
		{"country", "Country"}, {"website", "Website"},
	}
	var out []crmsync.FieldMapping
	add := func(hs, sf crmsync.ObjectType, pairs [][2]string) {
		for _, p := range pairs {
			out = append(out, crmsync.FieldMapping{HubSpotObject: hs, SalesforceObject: sf,
				HubSpotProperty: p[0], SalesforceField: p[1], Rule: rule})
		}
	}
	add(crmsync.HSContact, crmsync.SFLead, append(person, [2]string{"company", "Company"}))
	contactFields := make([][2]string, 0, len(person))
	for _, p := range person {
		switch p[0] {
		case "address":
			p[1] = "MailingStreet"
		case "city", "state", "country":
			p[1] = "Mailing" + p[1]
		case "zip":
			p[1] = "MailingPostalCode"
		case "website":
			continue // Contact has no Website field
		}
		contactFields = append(contactFields, p)
	}
	add(crmsync.HSContact, crmsync.SFContact, contactFields)
	add(crmsync.HSCompany, crmsync.SFAccount, [][2]string{
		{"name", "Name"}, {"phone", "Phone"}, {"website", "Website"}, {"industry", "Industry"},
		{"address", "BillingStreet"}, {"city", "BillingCity"}, {"state", "BillingState"},
		{"zip", "BillingPostalCode"}, {"country", "BillingCountry"}, {"description", "Description"},
		{"numberofemployees", "NumberOfEmployees"}, {"annualrevenue", "AnnualRevenue"},
	})
	add(crmsync.HSDeal, crmsync.SFOpportunity, [][2]string{
		{"dealname", "Name"}, {"amount", "Amount"}, {"closedate", "CloseDate"},
		{"dealstage", "StageName"}, {"description", "Description"},
	})
	return out
}

// For returns the mappings of one object pair.
func For(all []crmsync.FieldMapping, hs, sf crmsync.ObjectType) []crmsync.FieldMapping {
	var out []crmsync.FieldMapping
	for _, m := range all {
		if m.HubSpotObject == hs && m.SalesforceObject == sf {
			out = append(out, m)
		}
	}
	return out
}
