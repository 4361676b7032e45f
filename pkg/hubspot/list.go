package hubspot

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmsync/crmsync/pkg/crmsync"
)

// MaxListLimit is the largest page of the object list endpoint.
const MaxListLimit = 100

// ListPage is one page of ListObjects; Next is "" on the last page.
type ListPage struct {
	Objects []Object
	Next    string
}

// ListObjects returns a page of objects of type o in id order: live ones,
// or with archived the archived ones (HubSpot keeps them 90 days, with
// ArchivedAt). after is the previous page's Next ("" = from the start).
//
// GET /crm/v3/objects/{objectType}?limit=&after=&archived=&properties=
func (c *Client) ListObjects(ctx context.Context, o crmsync.ObjectType, archived bool, after string, limit int, properties []string) (*ListPage, error) {
	op := "list " + string(o)
	p, err := objectPath(op, o)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	q := url.Values{"limit": {strconv.Itoa(limit)}, "archived": {strconv.FormatBool(archived)}}
	if after != "" {
		q.Set("after", after)
	}
	if len(properties) > 0 {
		q.Set("properties", strings.Join(properties, ","))
	}
	var page struct {
		Results []wireObject `json:"results"`
		Paging  *wirePaging  `json:"paging"`
	}
	if err := c.do(ctx, call{op: op, method: "GET", path: "crm/v3/objects/" + p, query: q, out: &page, idempotent: true}); err != nil {
		return nil, err
	}
	out := &ListPage{Next: page.Paging.after()}
	for i := range page.Results {
		out.Objects = append(out.Objects, *page.Results[i].object())
	}
	return out, nil
}
