package crmsync

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestObjectTypesBelongToOneSide(t *testing.T) {
	hs, sf := ObjectTypes(HubSpot), ObjectTypes(Salesforce)
	if len(hs) != 11 || len(sf) != 6 {
		t.Fatalf("got %d HubSpot and %d Salesforce types, want 11 and 6", len(hs), len(sf))
	}
	for _, o := range append(hs, sf...) {
		if !o.Side().Valid() {
			t.Errorf("%s has no side", o)
		}
	}
	if ObjectType("Widget").Side() != "" {
		t.Error("unknown type has a side")
	}
	if HubSpot.Other() != Salesforce || Salesforce.Other() != HubSpot {
		t.Error("Other is wrong")
	}
}

func TestDefaultSettingsMatchHubSpotConnector(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if !s.Objects.Contacts || s.Objects.Companies || s.Objects.Deals {
		t.Errorf("objects = %+v, want contacts only", s.Objects)
	}
	if s.DefaultRule != RulePreferSalesforce || s.NewContactsAs != CreateAsLead ||
		s.LeadsToHubSpot != InboundCreateOrUpdate || s.ContactsToHubSpot != InboundCreateOrUpdate {
		t.Errorf("defaults differ from HubSpot's connector: %+v", s)
	}
	if s.InclusionListID != "" || s.Lifecycle != (LifecycleSettings{}) || s.Deletes != DeleteNothing {
		t.Errorf("inclusion list, lifecycle or deletes not off by default: %+v", s)
	}
	if s.Retry.Interval != 20*time.Minute || s.Retry.MaxAttempts != 10 {
		t.Errorf("retry = %+v, want every 20 min up to 10 times", s.Retry)
	}
}

func TestSettingsValidateReportsEveryProblem(t *testing.T) {
	s := DefaultSettings()
	s.DefaultRule = "sometimes"
	s.NewContactsAs = "person"
	s.Budget.ResumeLowPriorityPercent = 90
	s.Mappings = []FieldMapping{
		{HubSpotObject: HSContact, SalesforceObject: SFLead, HubSpotProperty: "email", SalesforceField: "Email", Rule: RuleTwoWay},
		{HubSpotObject: HSContact, SalesforceObject: SFLead, HubSpotProperty: "email", SalesforceField: "Email", Rule: RuleTwoWay},
		{HubSpotObject: SFLead, SalesforceObject: HSContact, HubSpotProperty: "x", SalesforceField: "y", Rule: "up"},
	}
	err := s.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate = %v, want ErrInvalid", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 7 {
		t.Fatalf("want a *ValidationError with 7 problems, got %v", err)
	}
	for _, want := range []string{"default_rule", "new_contacts_as", "budget", "mappings[1]: duplicates", "mappings[2].hubspot_object: \"Lead\"", "mappings[2].salesforce_object", "mappings[2].rule: unknown rule"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestReasonsHaveCategoriesAndHints(t *testing.T) {
	for _, r := range []Reason{ReasonNoEmail, ReasonNotInInclusionList, ReasonNotVisible,
		ReasonFlaggedDuplicate, ReasonRequiredField, ReasonValidationRule} {
		if !r.Category().Valid() || r.Hint() == "" {
			t.Errorf("%s: category %q hint %q", r, r.Category(), r.Hint())
		}
		e := NotEligible(RecordRef{Side: HubSpot, Object: HSContact, ID: "1"}, r, "refused", time.Now())
		if err := e.Validate(); err != nil {
			t.Errorf("%s: NotEligible does not validate: %v", r, err)
		}
	}
	bad := SyncError{Record: RecordRef{Side: HubSpot, Object: HSContact, ID: "1"}, Category: CategoryDuplicates, Reason: ReasonNoEmail}
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("reason in the wrong category validated: %v", err)
	}
}

func TestLinkValidate(t *testing.T) {
	hs := RecordRef{Side: HubSpot, Object: HSContact, ID: "1"}
	sf := RecordRef{Side: Salesforce, Object: SFLead, ID: "00Q000000000001AAA"}
	for name, tt := range map[string]struct {
		l  Link
		ok bool
	}{
		"both":            {Link{HubSpot: hs, Salesforce: sf}, true},
		"reservation":     {Link{HubSpot: hs}, true},
		"none":            {Link{}, false},
		"sides swapped":   {Link{HubSpot: sf, Salesforce: hs}, false},
		"empty id on one": {Link{HubSpot: RecordRef{Side: HubSpot, Object: HSContact}}, false},
	} {
		if err := tt.l.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", name, err, tt.ok)
		}
	}
}

type transientErr struct{}

func (transientErr) Error() string   { return "throttled" }
func (transientErr) Transient() bool { return true }

func TestIsTransient(t *testing.T) {
	if !IsTransient(errors.Join(errors.New("x"), transientErr{})) {
		t.Error("wrapped transient error not found")
	}
	if IsTransient(ErrConflict) || IsTransient(nil) {
		t.Error("terminal error reported transient")
	}
	se := &SendError{Failed: map[int]error{0: transientErr{}, 3: ErrInvalid}}
	if se.Transient() {
		t.Error("SendError with a terminal failure reported transient")
	}
}

func TestSendErrorNamesTheFirstFailure(t *testing.T) {
	se := &SendError{Failed: map[int]error{7: ErrInvalid, 2: ErrConflict, 5: ErrInvalid}}
	for range 20 { // map order varies; the message must not
		if got := se.Error(); !strings.Contains(got, "3 of the triggers") || !strings.Contains(got, "first #2: conflict") {
			t.Fatalf("Error() = %q", got)
		}
	}
}
