package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/mapping"
)

// SettingsPlan is what a settings change would do to the linked pairs —
// `crmsync plan` — found by the engine's own read and decision under the
// proposed settings, with nothing applied.
type SettingsPlan struct {
	// Pairs is the number of linked pairs previewed.
	Pairs int `json:"pairs"`
	// Decisions counts the pairs per decision.
	Decisions map[Decision]int `json:"decisions"`
	// Fields counts the writes per field (mapping key) and target side.
	Fields map[string]int `json:"fields"`
	// Writes counts the record writes per operation, side and object
	// ("update salesforce/Lead").
	Writes map[string]int `json:"writes"`
	// Calls estimates the API calls the writes cost per side when the
	// worker resolves them in batches of BatchSize: updates of one object
	// type share a batch call (HubSpot batches ≤ 100, Salesforce
	// collections ≤ 200), creations, associations and deletes are one call
	// each. Reads are not counted (a resolution reads both records, in
	// batches likewise).
	Calls     map[crmsync.Side]int `json:"calls"`
	BatchSize int                  `json:"batch_size"`
	// Errors counts the pairs that would get a sync error, per category.
	Errors map[crmsync.Category]int `json:"errors,omitempty"`
	// Examples are the first previews that would write.
	Examples []Preview `json:"examples,omitempty"`
}

// maxPlanExamples bounds SettingsPlan.Examples.
const maxPlanExamples = 10

// PlanSettings previews every active linked pair under proposed (which
// must validate) and estimates the writes and calls, resolving them in
// batches of batchSize (the worker's: 10 with SQS FIFO). It costs the
// reads of a resolution per pair.
func (e *Engine) PlanSettings(ctx context.Context, proposed crmsync.Settings, batchSize int) (SettingsPlan, error) {
	if err := proposed.Validate(); err != nil {
		return SettingsPlan{}, err
	}
	settings := proposed.Effective()
	if len(settings.ValueMaps) == 0 {
		settings.ValueMaps = mapping.DefaultValueMaps()
	}
	if batchSize <= 0 {
		batchSize = 10
	}
	out := SettingsPlan{Decisions: map[Decision]int{}, Fields: map[string]int{}, Writes: map[string]int{},
		Calls: map[crmsync.Side]int{}, BatchSize: batchSize, Errors: map[crmsync.Category]int{}}
	updates := map[string]int{}
	page := crmsync.PageRequest{Limit: 500}
	for {
		links, next, err := e.Store.ListLinks(ctx, page)
		if err != nil {
			return out, fmt.Errorf("plan: list links: %w", err)
		}
		for _, l := range links {
			if !l.IsRecordPair() {
				continue
			}
			p, err := e.previewWith(ctx, settings, l.HubSpot, &prefetch{})
			if err != nil {
				return out, fmt.Errorf("plan: %s: %w", l.HubSpot, err)
			}
			out.add(p, updates)
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	out.estimate(updates)
	return out, nil
}

// add counts one preview.
func (sp *SettingsPlan) add(p Preview, updates map[string]int) {
	sp.Pairs++
	sp.Decisions[p.Decision]++
	if p.Error != nil {
		sp.Errors[p.Error.Category]++
	}
	for _, w := range p.Writes {
		key := w.Op + " " + string(w.Ref.Side) + "/" + string(w.Ref.Object)
		sp.Writes[key]++
		if w.Op == "update" {
			updates[key]++
		} else {
			sp.Calls[w.Ref.Side]++
		}
		for f := range w.Properties {
			sp.Fields[string(w.Ref.Side)+" "+f]++
		}
	}
	if len(p.Writes) > 0 && len(sp.Examples) < maxPlanExamples {
		sp.Examples = append(sp.Examples, p)
	}
}

// estimate adds the batch calls of the updates: a batch of BatchSize
// triggers writes each object type's updates with one call (of at most
// the vendor's batch size).
func (sp *SettingsPlan) estimate(updates map[string]int) {
	keys := make([]string, 0, len(updates))
	for k := range updates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := updates[k]
		side := crmsync.HubSpot
		if strings.HasPrefix(k, "update "+string(crmsync.Salesforce)+"/") {
			side = crmsync.Salesforce
		}
		per := min(sp.BatchSize, VendorBatch(side))
		sp.Calls[side] += (n + per - 1) / per
	}
}
