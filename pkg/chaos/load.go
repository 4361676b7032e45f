package chaos

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
)

// kind is one object pair of the load, with the fields it changes. Each
// field is changed on one side only (driven there), so the last value the
// load wrote is the one both sides must end with under Two-way, whatever
// order the triggers arrive in (a field changed on both sides before a
// sync is a conflict the engine settles by record modification time — a
// rule the checker does not second-guess).
type kind struct {
	pair Pair
	// hubspot and salesforce are the HubSpot properties driven on each
	// side.
	hubspot, salesforce []string
	// sfObject is the Salesforce object the load creates.
	sfObject crmsync.ObjectType
	// share of the load (weights).
	weight int
	// create returns the initial values of a new record on side s
	// (HubSpot property names), n numbering it.
	create func(s crmsync.Side, n int) map[string]string
}

var (
	kindContact = kind{
		pair: Pair{HubSpot: crmsync.HSContact, Salesforce: []crmsync.ObjectType{crmsync.SFLead, crmsync.SFContact},
			HubSpotKey: "email", SalesforceKey: "Email"},
		hubspot: []string{"firstname", "jobtitle", "city"}, salesforce: []string{"phone", "mobilephone", "zip"},
		sfObject: crmsync.SFLead, weight: 7,
		create: func(s crmsync.Side, n int) map[string]string {
			return map[string]string{"email": fmt.Sprintf("c%d.%s@chaos.example", n, s), "lastname": fmt.Sprintf("Chaos%d", n),
				"company": "Chaos Co", "firstname": "first 0", "jobtitle": "title 0", "city": "city 0",
				"phone": "phone 0", "mobilephone": "mobile 0", "zip": "zip 0"}
		},
	}
	kindCompany = kind{
		pair: Pair{HubSpot: crmsync.HSCompany, Salesforce: []crmsync.ObjectType{crmsync.SFAccount},
			HubSpotKey: "name", SalesforceKey: "Name"},
		hubspot: []string{"description", "city"}, salesforce: []string{"phone"},
		sfObject: crmsync.SFAccount, weight: 2,
		create: func(s crmsync.Side, n int) map[string]string {
			return map[string]string{"name": fmt.Sprintf("Chaos company %d %s", n, s), "description": "description 0",
				"city": "city 0", "phone": "phone 0"}
		},
	}
	kindDeal = kind{
		pair: Pair{HubSpot: crmsync.HSDeal, Salesforce: []crmsync.ObjectType{crmsync.SFOpportunity},
			HubSpotKey: "dealname", SalesforceKey: "Name"},
		hubspot:  []string{"description"},
		sfObject: crmsync.SFOpportunity, weight: 1,
		create: func(s crmsync.Side, n int) map[string]string {
			return map[string]string{"dealname": fmt.Sprintf("Chaos deal %d %s", n, s), "description": "description 0",
				"dealstage": "appointmentscheduled", "pipeline": "default", "closedate": "2026-12-31"}
		},
	}
)

// entity is one record pair of the load: what it wrote, and the records'
// ids as far as known.
type entity struct {
	kind   *kind
	key    string
	ids    map[crmsync.Side]string
	fields map[string]Value
}

// load drives changes into both simulators through their admin calls
// (as people would make them: never rate-limited, never faulted).
type load struct {
	hs      *hubspotsim.Portal
	sf      *salesforcesim.Org
	kinds   []*kind
	sfField func(k *kind, prop string) string
	rng     *rand.Rand

	mu       sync.Mutex
	entities []*entity
	byKey    map[string]*entity
	seq      int
	created  int
	updated  int
	failed   map[string]int
}

// step makes one change: a creation while fewer than creations were made
// (every fifth step), else an update of a known record on a side where it
// exists.
func (l *load) step(i, creations int) {
	if l.created < creations && (i%5 == 0 || len(l.entities) == 0) {
		l.create()
		return
	}
	l.update()
}

func (l *load) pickKind() *kind {
	total := 0
	for _, k := range l.kinds {
		total += k.weight
	}
	n := l.rng.IntN(total)
	for _, k := range l.kinds {
		if n < k.weight {
			return k
		}
		n -= k.weight
	}
	return l.kinds[0]
}

func (l *load) create() {
	k := l.pickKind()
	side := crmsync.HubSpot
	if l.rng.IntN(2) == 0 {
		side = crmsync.Salesforce
	}
	l.seq++
	vals := k.create(side, l.seq)
	e := &entity{kind: k, key: vals[k.pair.HubSpotKey], ids: map[crmsync.Side]string{}, fields: map[string]Value{}}
	for _, f := range append(append([]string{}, k.hubspot...), k.salesforce...) {
		e.fields[f] = Value{vals[f], side}
	}
	var id string
	var err error
	if side == crmsync.HubSpot {
		var o hubspotsim.Object
		o, err = l.hs.CreateAsUser(k.pair.HubSpot, vals)
		id = o.ID
	} else {
		sfVals := map[string]any{}
		for p, v := range vals {
			if f := l.sfField(k, p); f != "" {
				sfVals[f] = v
			}
		}
		if k.sfObject == crmsync.SFOpportunity {
			sfVals["StageName"], sfVals["CloseDate"] = "Prospecting", "2026-12-31"
		}
		id, err = l.sf.CreateAs("", string(k.sfObject), sfVals)
	}
	if err != nil {
		l.fail("create "+string(k.pair.HubSpot)+" in "+string(side), err)
		return
	}
	e.ids[side] = id
	l.mu.Lock()
	l.entities = append(l.entities, e)
	l.byKey[e.key] = e
	l.mu.Unlock()
	l.created++
}

func (l *load) update() {
	l.mu.Lock()
	e := l.entities[l.rng.IntN(len(l.entities))]
	var sides []crmsync.Side
	for _, s := range []crmsync.Side{crmsync.HubSpot, crmsync.Salesforce} {
		if e.ids[s] != "" && len(e.kind.driven(s)) > 0 {
			sides = append(sides, s)
		}
	}
	if len(sides) == 0 {
		l.mu.Unlock()
		l.create() // a deal made in Salesforce not yet in HubSpot: nothing to change
		return
	}
	side := sides[l.rng.IntN(len(sides))]
	id := e.ids[side]
	l.mu.Unlock()
	fields := e.kind.driven(side)
	prop := fields[l.rng.IntN(len(fields))]
	l.seq++
	v := fmt.Sprintf("%s %d", prop, l.seq)
	var err error
	if side == crmsync.HubSpot {
		_, err = l.hs.UpdateAsUser(e.kind.pair.HubSpot, id, map[string]string{prop: v})
	} else {
		err = l.sf.UpdateAs("", id, map[string]any{l.sfField(e.kind, prop): v})
	}
	if err != nil {
		l.fail("update "+string(e.kind.pair.HubSpot)+" in "+string(side), err)
		return
	}
	l.mu.Lock()
	e.fields[prop] = Value{v, side}
	l.mu.Unlock()
	l.updated++
}

func (l *load) fail(what string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed[what+": "+err.Error()]++
}

// driven returns the properties k's load changes on side s.
func (k *kind) driven(s crmsync.Side) []string {
	if s == crmsync.HubSpot {
		return k.hubspot
	}
	return k.salesforce
}

// learnIDs records the other side's ids of the entities that reached it
// (by identity), so later updates may change them there.
func (l *load) learnIDs(snap Snapshot) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range snap.Records {
		for _, k := range l.kinds {
			f := k.pair.HubSpotKey
			if r.Ref.Side == crmsync.Salesforce {
				f = k.pair.SalesforceKey
			}
			if e := l.byKey[r.Values[f]]; e != nil && e.kind == k && e.ids[r.Ref.Side] == "" && k.has(r.Ref) {
				e.ids[r.Ref.Side] = r.Ref.ID
			}
		}
	}
}

func (k *kind) has(ref crmsync.RecordRef) bool {
	if ref.Side == crmsync.HubSpot {
		return ref.Object == k.pair.HubSpot
	}
	for _, o := range k.pair.Salesforce {
		if o == ref.Object {
			return true
		}
	}
	return false
}

// expected returns what the load wrote, for the checker.
func (l *load) expected() []Expected {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Expected, 0, len(l.entities))
	for _, e := range l.entities {
		fields := make(map[string]Value, len(e.fields))
		for k, v := range e.fields {
			fields[k] = v
		}
		out = append(out, Expected{Pair: e.kind.pair, Key: e.key, Fields: fields})
	}
	return out
}

// snapshot reads every record of the load's object types from both
// simulators.
func snapshot(hs *hubspotsim.Portal, sf *salesforcesim.Org, kinds []*kind) Snapshot {
	var snap Snapshot
	for _, k := range kinds {
		for _, o := range hs.Objects(k.pair.HubSpot) {
			snap.Records = append(snap.Records, Record{Ref: crmsync.RecordRef{Side: crmsync.HubSpot, Object: k.pair.HubSpot, ID: o.ID},
				Values: o.Properties})
		}
		for _, obj := range k.pair.Salesforce {
			for _, r := range sf.Records(string(obj)) {
				vals := make(map[string]string, len(r))
				for f, v := range r {
					if v != nil {
						vals[f] = fmt.Sprint(v)
					}
				}
				snap.Records = append(snap.Records, Record{Ref: crmsync.RecordRef{Side: crmsync.Salesforce, Object: obj, ID: vals["Id"]},
					Values: vals})
			}
		}
	}
	return snap
}
