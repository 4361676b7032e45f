package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// The decision is a pure function of what was read: these cases build
// facts by hand and check the plan, with no store, CRM or clock.

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func ref(s crmsync.Side, o crmsync.ObjectType, id string) crmsync.RecordRef {
	return crmsync.RecordRef{Side: s, Object: o, ID: id}
}

var (
	hsC  = ref(crmsync.HubSpot, crmsync.HSContact, "1")
	sfL  = ref(crmsync.Salesforce, crmsync.SFLead, "00Q1")
	sfC2 = ref(crmsync.Salesforce, crmsync.SFContact, "0032")
)

// factsFor builds the facts of a trigger on src under the default
// settings, with records hs and sf (nil: absent) and link l.
func factsFor(src crmsync.RecordRef, l *crmsync.Link, hs, sf map[string]string, edit func(*facts)) *facts {
	s := crmsync.DefaultSettings()
	s.Mappings = mapping.DefaultMappings(s.DefaultRule)
	p, _ := pairFor(src, s)
	f := &facts{t: crmsync.Trigger{Record: src, Kind: crmsync.KindPropertyChanged, OccurredAt: t0, DedupeKey: "k"},
		settings: s, pair: p.withLink(l), link: l, recs: map[crmsync.Side]crmsync.Record{}, now: t0}
	if hs != nil {
		f.recs[crmsync.HubSpot] = crmsync.Record{Ref: hsC, Properties: hs, LastModified: t0.Add(-time.Minute)}
	}
	if sf != nil {
		r := sfL
		if l != nil && !l.Salesforce.IsZero() {
			r = l.Salesforce
		}
		f.recs[crmsync.Salesforce] = crmsync.Record{Ref: r, Properties: sf, LastModified: t0.Add(-2 * time.Minute)}
	}
	if f.pair.sf == "" {
		f.pair.sf = crmsync.SFLead
	}
	f.conv = mapping.NewConverter(f.mappings(), nil, nil)
	if edit != nil {
		edit(f)
	}
	return f
}

// linked is a link whose shadow holds shadow's values and "" for every
// other mapped field (a pair synced when those were blank).
func linked(shadow map[string]string) *crmsync.Link {
	sh := map[string]crmsync.FieldShadow{}
	for _, m := range mapping.For(mapping.DefaultMappings(crmsync.RulePreferSalesforce), crmsync.HSContact, crmsync.SFLead) {
		sh[m.Key()] = crmsync.NewFieldShadow("", t0.Add(-time.Hour))
	}
	for k, v := range shadow {
		sh[k] = crmsync.NewFieldShadow(v, t0.Add(-time.Hour))
	}
	return &crmsync.Link{ID: "L", HubSpot: hsC, Salesforce: sfL, Status: crmsync.LinkActive, Shadow: sh, Version: 4}
}

func TestDecide(t *testing.T) {
	agreed := map[string]string{"email=Email": "a@x", "lastname=LastName": "A", "phone=Phone": "111", ownerShadowKey: ""}
	cases := []struct {
		name     string
		f        *facts
		decision Decision
		reason   string // a part of the plan's reason
		check    func(t *testing.T, p Plan)
	}{
		{"no email is not eligible", factsFor(hsC, nil, map[string]string{"lastname": "A"}, nil, nil),
			DecisionNotEligible, "no email", func(t *testing.T, p Plan) {
				if p.Error == nil || p.Error.Reason != crmsync.ReasonNoEmail || p.Writes.count() != 0 {
					t.Errorf("plan %+v", p)
				}
			}},
		{"not in the inclusion list", factsFor(hsC, nil, map[string]string{"email": "a@x"}, nil, func(f *facts) {
			no := false
			f.settings.InclusionListID, f.found.inList = "7", &no
		}), DecisionNotEligible, "inclusion list 7", nil},
		{"a lead while leads do nothing is a recorded skip", factsFor(sfL, nil, nil, map[string]string{"Email": "a@x"}, func(f *facts) {
			f.settings.LeadsToHubSpot = crmsync.InboundNothing
		}), DecisionSkipped, "do nothing", func(t *testing.T, p Plan) {
			if p.Ledger.Result != "skipped" || p.Error != nil {
				t.Errorf("plan %+v", p)
			}
		}},
		{"a young reservation elsewhere is retried", factsFor(hsC, &crmsync.Link{ID: "L", HubSpot: hsC, Status: crmsync.LinkPending,
			PendingKey: "other", UpdatedAt: t0.Add(-time.Minute)}, map[string]string{"email": "a@x"}, nil, nil), "", "", func(t *testing.T, p Plan) {
			if p.Retry == nil || !strings.Contains(p.Retry.Error(), "another worker is creating") {
				t.Errorf("retry = %v", p.Retry)
			}
		}},
		{"a stale reservation is claimed and the record created", factsFor(hsC, &crmsync.Link{ID: "L", HubSpot: hsC, Status: crmsync.LinkPending,
			PendingKey: "other", UpdatedAt: t0.Add(-time.Hour)}, map[string]string{"email": "a@x", "lastname": "A"}, nil, nil), DecisionSynced, "", func(t *testing.T, p Plan) {
			if !p.Link.Claim || p.Link.Reserve || p.Writes.Create == nil || p.Writes.Create.Ref.Object != crmsync.SFLead ||
				p.Writes.Create.Props["LastName"] != "A" {
				t.Errorf("plan %+v", p)
			}
		}},
		{"a new contact is created as a lead after a reservation", factsFor(hsC, nil, map[string]string{"email": "a@x", "lastname": "A"}, nil, nil),
			DecisionSynced, "", func(t *testing.T, p Plan) {
				if !p.Link.Reserve || p.Writes.Create == nil || p.Writes.Create.Props["Email"] != "a@x" || p.Link.Next.Shadow["email=Email"].Value != "a@x" {
					t.Errorf("plan %+v", p)
				}
			}},
		{"a match linked to another record is a flagged duplicate", factsFor(hsC, nil, map[string]string{"email": "a@x"}, nil, func(f *facts) {
			m := crmsync.Record{Ref: sfC2, Properties: map[string]string{"Email": "a@x"}}
			f.found.match, f.found.matchLink = &m, &crmsync.Link{ID: "M", HubSpot: ref(crmsync.HubSpot, crmsync.HSContact, "9"), Salesforce: sfC2}
		}), DecisionNotEligible, "already linked to hubspot/contact/9", nil},
		{"a converged pair is no change and keeps its link", factsFor(hsC, linked(agreed),
			map[string]string{"email": "a@x", "lastname": "A", "phone": "111"}, map[string]string{"Email": "a@x", "LastName": "A", "Phone": "111"}, nil),
			DecisionNoChange, "no mapped field changed", func(t *testing.T, p Plan) {
				if p.Link.Store || p.Writes.count() != 0 || !p.ClearError {
					t.Errorf("plan %+v", p)
				}
			}},
		{"prefer Salesforce refuses a HubSpot change, with the rule", factsFor(hsC, linked(agreed),
			map[string]string{"email": "a@x", "lastname": "A", "phone": "222"}, map[string]string{"Email": "a@x", "LastName": "A", "Phone": "111"}, nil),
			DecisionRefused, "phone=Phone (prefer Salesforce unless blank", func(t *testing.T, p Plan) {
				fc := fieldChanges(p)
				if len(fc) != 1 || fc[0].Before != "111" || fc[0].After != "222" || fc[0].Refused == "" || p.Link.Next.Shadow["phone=Phone"].Value != "111" {
					t.Errorf("changes %+v, shadow %v", fc, p.Link.Next.Shadow["phone=Phone"])
				}
			}},
		{"a Salesforce change goes to HubSpot", factsFor(sfL, linked(agreed),
			map[string]string{"email": "a@x", "lastname": "A", "phone": "111"}, map[string]string{"Email": "a@x", "LastName": "B", "Phone": "111"}, nil),
			DecisionSynced, "1 write", func(t *testing.T, p Plan) {
				if len(p.Writes.Updates) != 1 || p.Writes.Updates[0].Ref != hsC || p.Writes.Updates[0].Props["lastname"] != "B" || !p.Link.Store {
					t.Errorf("plan %+v", p)
				}
			}},
		{"an owner with no user on the other side is kept and noted", factsFor(sfL, linked(agreed),
			map[string]string{"email": "a@x", "lastname": "A", "phone": "111"}, map[string]string{"Email": "a@x", "LastName": "A", "Phone": "111"}, func(f *facts) {
				r := f.recs[crmsync.Salesforce]
				r.OwnerEmail = "rep@x"
				f.recs[crmsync.Salesforce] = r
				f.look.owners = map[crmsync.Side]map[string]string{crmsync.HubSpot: {"rep@x": ""}}
			}), DecisionNoChange, "", func(t *testing.T, p Plan) {
			if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "rep@x has no user on hubspot") || p.Link.Store {
				t.Errorf("plan %+v", p)
			}
		}},
		{"a gone linked record marks the link", factsFor(hsC, linked(agreed), map[string]string{"email": "a@x"}, nil, func(f *facts) {
			f.found.gone.ref = sfL
		}), DecisionSourceGone, "linked record salesforce/Lead/00Q1 no longer exists", func(t *testing.T, p Plan) {
			if !p.Link.Store || p.Link.Next.Status != crmsync.LinkDeletedSalesforce || p.Ledger.Result != "link marked deleted_salesforce" {
				t.Errorf("plan %+v", p.Link)
			}
		}},
		{"a vendor delete mirrors under the mirror policy", factsFor(hsC, linked(agreed), nil, nil, func(f *facts) {
			f.found.gone.ref = hsC
			f.t.Kind = crmsync.KindDeleted
			f.settings.Deletes = crmsync.DeleteMirror
		}), DecisionSourceGone, "was deleted", func(t *testing.T, p Plan) {
			if p.Writes.Delete != sfL || p.Link.Next.Status != crmsync.LinkDeletedHubSpot {
				t.Errorf("plan %+v", p)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := decide(c.f)
			if p.Decision != c.decision || !strings.Contains(p.Reason, c.reason) {
				t.Fatalf("decision %q (%s), want %q containing %q", p.Decision, p.Reason, c.decision, c.reason)
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}
