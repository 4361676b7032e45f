package salesforcesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/crmsync/crmsync/pkg/salesforce"
)

var referenceRE = regexp.MustCompile(`@\{([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\}`)

// composite runs up to 25 sub-requests in order, resolving @{ref.field}
// from earlier answers. A sub-request referencing a failed one answers
// PROCESSING_HALTED. allOrNone=true stops at the first failure but does
// not roll back what was committed before it (not simulated).
func (o *Org) composite(c call) (int, any) {
	var req struct {
		AllOrNone bool `json:"allOrNone"`
		Requests  []struct {
			Method      string          `json:"method"`
			URL         string          `json:"url"`
			ReferenceID string          `json:"referenceId"`
			Body        json.RawMessage `json:"body"`
		} `json:"compositeRequest"`
	}
	if err := decodeJSON(bytes.NewReader(c.body), &req); err != nil {
		return fail(errf(400, "JSON_PARSER_ERROR", nil, "%v", err))
	}
	if len(req.Requests) == 0 || len(req.Requests) > 25 {
		return fail(errf(400, "INVALID_BATCH_REQUEST", nil, "compositeRequest must have between 1 and 25 sub-requests"))
	}
	results := map[string]any{}
	var out []any
	halted := false
	for _, sub := range req.Requests {
		resolve := func(s string) (string, bool) {
			ok := true
			s = referenceRE.ReplaceAllStringFunc(s, func(m string) string {
				parts := referenceRE.FindStringSubmatch(m)
				res, found := results[parts[1]].(map[string]any)
				v, has := res[parts[2]]
				if !found || !has {
					ok = false
					return m
				}
				return fmt.Sprint(v)
			})
			return s, ok
		}
		u, ok1 := resolve(sub.URL)
		body, ok2 := resolve(string(sub.Body))
		var status int
		var answer any
		switch {
		case halted || !ok1 || !ok2:
			status, answer = 400, []any{errf(400, "PROCESSING_HALTED", nil, "Invalid reference specified or processing halted for %s", sub.ReferenceID).wire("errorCode")}
		default:
			pu, err := url.Parse(u)
			rest, found := strings.CutPrefix(pu.EscapedPath(), dataRoot)
			if err != nil || !found {
				status, answer = fail(errf(404, salesforce.CodeNotFound, nil, "The requested resource does not exist"))
				break
			}
			if body == "null" {
				body = ""
			}
			status, answer = o.dispatch(call{method: sub.Method, segments: splitPath(rest), query: pu.Query(),
				body: []byte(body), user: c.user, allowSave: c.allowSave})
		}
		if status >= 300 && req.AllOrNone {
			halted = true
		}
		if m, ok := answer.(map[string]any); ok && status < 300 {
			results[sub.ReferenceID] = m
		}
		headers := map[string]any{}
		if m, ok := answer.(map[string]any); ok && status == http.StatusCreated && m["id"] != nil {
			headers["Location"] = fmt.Sprintf("%ssobjects/%s", dataRoot, m["id"])
		}
		out = append(out, map[string]any{"body": answer, "httpHeaders": headers, "httpStatusCode": status, "referenceId": sub.ReferenceID})
	}
	return http.StatusOK, map[string]any{"compositeResponse": out}
}
