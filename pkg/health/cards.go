package health

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// A card groups sync errors as HubSpot's Sync Health tab does: one card
// per error category holding the records a CRM rejected (vendor errors,
// no eligibility reason), and one card per not-eligible reason holding
// the records crmsync refused. Every sync error is on exactly one card.

// CardKey names a card in URLs and JSON: a category's slug
// ("property-values") or a reason ("no_email").
type CardKey string

// cardOf is the card a sync error is on.
func cardOf(e crmsync.SyncError) CardKey {
	if e.Reason != "" {
		return CardKey(e.Reason)
	}
	return categoryKey(e.Category)
}

func categoryKey(c crmsync.Category) CardKey {
	return CardKey(strings.ReplaceAll(strings.ToLower(string(c)), " ", "-"))
}

// cardDef says what a card holds.
type cardDef struct {
	Key      CardKey
	Title    string
	Category crmsync.Category // the category its errors are listed under
	Reason   crmsync.Reason   // "" for a category card
	Hint     string
}

// reasons lists the not-eligible reasons in display order.
var reasons = []crmsync.Reason{crmsync.ReasonNoEmail, crmsync.ReasonNotInInclusionList, crmsync.ReasonNotVisible,
	crmsync.ReasonFlaggedDuplicate, crmsync.ReasonRequiredField, crmsync.ReasonValidationRule}

var reasonTitles = map[crmsync.Reason]string{
	crmsync.ReasonNoEmail:            "Not eligible: no email",
	crmsync.ReasonNotInInclusionList: "Not eligible: not in the inclusion list",
	crmsync.ReasonNotVisible:         "Not eligible: not visible to the integration user",
	crmsync.ReasonFlaggedDuplicate:   "Not eligible: flagged duplicate",
	crmsync.ReasonRequiredField:      "Not eligible: required field missing",
	crmsync.ReasonValidationRule:     "Not eligible: validation rule",
}

// cardDefs lists every card, categories first, in display order.
func cardDefs() []cardDef {
	var out []cardDef
	for _, c := range crmsync.Categories {
		out = append(out, cardDef{Key: categoryKey(c), Title: string(c), Category: c, Hint: c.Hint()})
	}
	for _, r := range reasons {
		out = append(out, cardDef{Key: CardKey(r), Title: reasonTitles[r], Category: r.Category(), Reason: r, Hint: r.Hint()})
	}
	return out
}

// findCard returns the card named key.
func findCard(key CardKey) (cardDef, error) {
	for _, d := range cardDefs() {
		if d.Key == key {
			return d, nil
		}
	}
	return cardDef{}, fmt.Errorf("%w: no card %q", crmsync.ErrInvalid, key)
}

// holds reports whether e is on card d.
func (d cardDef) holds(e crmsync.SyncError) bool { return cardOf(e) == d.Key }

// Card is one error card's summary.
type Card struct {
	Key      CardKey          `json:"key"`
	Title    string           `json:"title"`
	Category crmsync.Category `json:"category"`
	Reason   crmsync.Reason   `json:"reason,omitempty"`
	Hint     string           `json:"hint"`
	// Errors counts failed sync attempts (each record's attempts);
	// Records counts the records now in error.
	Errors  int `json:"errors"`
	Records int `json:"records"`
}

// cardScanLimit bounds how many sync errors one page view reads to split
// them into cards; past it the counts are partial (and say so).
const cardScanLimit = 20000

// buildCards counts every card by reading every sync error (up to
// cardScanLimit). It reports whether it read them all.
func buildCards(ctx context.Context, st ErrorLister) ([]Card, bool, error) {
	defs := cardDefs()
	byKey := map[CardKey]*Card{}
	cards := make([]Card, len(defs))
	for i, d := range defs {
		cards[i] = Card{Key: d.Key, Title: d.Title, Category: d.Category, Reason: d.Reason, Hint: d.Hint}
		byKey[d.Key] = &cards[i]
	}
	page := crmsync.PageRequest{Limit: 500}
	read := 0
	for {
		errs, next, err := st.ListSyncErrors(ctx, "", page)
		if err != nil {
			return nil, false, fmt.Errorf("list sync errors: %w", err)
		}
		for _, e := range errs {
			c := byKey[cardOf(e)]
			if c == nil { // a reason this build does not know: its category's card
				c = byKey[categoryKey(e.Category)]
			}
			if c == nil {
				c = byKey[categoryKey(crmsync.CategoryOther)]
			}
			c.Records++
			c.Errors += max(e.Attempts, 1)
		}
		read += len(errs)
		if next == "" {
			return cards, true, nil
		}
		if read >= cardScanLimit {
			return cards, false, nil
		}
		page.Token = next
	}
}

// CardPage is one page of a card's records.
type CardPage struct {
	Card    Card                `json:"card"`
	Records []crmsync.SyncError `json:"records"`
	// Next is the token of the next page ("" on the last).
	Next string `json:"next,omitempty"`
}

// cardPageSize is how many records one card page shows.
const cardPageSize = 50

// listCard returns up to size records of card d from token on. It asks
// the store for no more than it still needs, so the token it returns
// resumes exactly after the last record returned.
func listCard(ctx context.Context, st ErrorLister, d cardDef, token string, size int) ([]crmsync.SyncError, string, error) {
	out := []crmsync.SyncError{}
	page := crmsync.PageRequest{Token: token}
	for {
		page.Limit = size - len(out)
		errs, next, err := st.ListSyncErrors(ctx, d.Category, page)
		if err != nil {
			return nil, "", fmt.Errorf("list %s errors: %w", d.Category, err)
		}
		for _, e := range errs {
			if d.holds(e) {
				out = append(out, e)
			}
		}
		if next == "" || len(out) >= size {
			return out, next, nil
		}
		page.Token = next
	}
}

// eachCardError calls fn for every record of card d.
func eachCardError(ctx context.Context, st ErrorLister, d cardDef, fn func(crmsync.SyncError) error) error {
	token := ""
	for {
		errs, next, err := listCard(ctx, st, d, token, 500)
		if err != nil {
			return err
		}
		for _, e := range errs {
			if err := fn(e); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// csvHeader is the first row of a card's CSV export.
var csvHeader = []string{"side", "object", "id", "category", "reason", "code", "message", "fix", "attempts",
	"first_seen", "last_seen", "next_retry", "link_id"}

// writeCardCSV writes every record of card d as CSV.
func writeCardCSV(ctx context.Context, w io.Writer, st ErrorLister, d cardDef) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	err := eachCardError(ctx, st, d, func(e crmsync.SyncError) error {
		return cw.Write([]string{string(e.Record.Side), string(e.Record.Object), csvSafe(e.Record.ID),
			string(e.Category), string(e.Reason), csvSafe(e.Code), csvSafe(e.Message), csvSafe(e.Hint),
			strconv.Itoa(e.Attempts), stamp(e.FirstSeen), stamp(e.LastSeen), stamp(e.NextRetry), csvSafe(e.LinkID)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (vendor
// messages quote record values, which anyone can type).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
