package salesforcesim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rest sends an authenticated REST call under the data root and decodes
// the JSON answer.
func (s *sim) rest(t *testing.T, token, method, path, body string, header ...string) (int, any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.srv.URL+prefix+dataRoot+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("%s %s: %d, not JSON: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp.StatusCode, v
}

func errorCode(v any) string {
	if a, ok := v.([]any); ok && len(a) > 0 {
		m, _ := a[0].(map[string]any)
		s, _ := m["errorCode"].(string)
		return s
	}
	return ""
}

func TestCollectionsRetrieveAndLowerCaseID(t *testing.T) {
	s := newSim(t, Config{})
	tok := s.org.Session("")
	var ids []string
	for _, name := range []string{"A", "B"} {
		id, err := s.org.CreateAs("", "Account", map[string]any{"Name": name})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	status, v := s.rest(t, tok, "POST", "composite/sobjects/Account", `{"ids":["`+ids[1]+`","001000000000000AAA","`+ids[0]+`"],"fields":["Name"]}`)
	got, _ := v.([]any)
	if status != 200 || len(got) != 3 || got[1] != nil || got[0].(map[string]any)["Name"] != "B" || got[2].(map[string]any)["Name"] != "A" {
		t.Fatalf("retrieve = %d %v", status, v)
	}
	if status, v := s.rest(t, tok, "GET", "composite/sobjects/Account?ids="+ids[0]+"&fields=Name,Website", ""); status != 200 || len(v.([]any)) != 1 {
		t.Errorf("GET retrieve = %d %v", status, v)
	}
	if status, v := s.rest(t, tok, "POST", "composite/sobjects/Account", `{"ids":["`+ids[0]+`"],"fields":["Nope"]}`); status != 400 || errorCode(v) != "INVALID_FIELD" {
		t.Errorf("retrieve with a bad field = %d %v", status, v)
	}
	// Field names are case-insensitive: "id" as jsforce and the guide's
	// own example send it.
	status, v = s.rest(t, tok, "PATCH", "composite/sobjects", `{"records":[{"attributes":{"type":"Account"},"id":"`+ids[0]+`","website":"https://a.example.com"}]}`)
	if res, _ := v.([]any); status != 200 || len(res) != 1 || res[0].(map[string]any)["success"] != true {
		t.Fatalf("update with lower-case id = %d %v", status, v)
	}
	if rec, _ := s.org.Get(ids[0]); rec["Website"] != "https://a.example.com" {
		t.Errorf("lower-case field not stored under its name: %v", rec)
	}
}

func TestDescribeGlobal(t *testing.T) {
	s := newSim(t, Config{})
	status, v := s.rest(t, s.org.Session(""), "GET", "sobjects", "")
	m, _ := v.(map[string]any)
	objs, _ := m["sobjects"].([]any)
	if status != 200 || m["maxBatchSize"] != float64(200) || len(objs) != len(DefaultSchema()) {
		t.Fatalf("describeGlobal = %d %v", status, v)
	}
}

func TestQueryBatchSizeHeader(t *testing.T) {
	s := newSim(t, Config{})
	for i := 0; i < 450; i++ {
		if _, err := s.org.CreateAs("", "Account", map[string]any{"Name": "Q"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		header string
		page   int
	}{{"", 450}, {"batchSize=200", 200}, {"batchSize=10", 200}, {"batchSize=300", 300}} {
		status, v := s.rest(t, s.org.Session(""), "GET", "query?q=SELECT+Id+FROM+Account", "", "Sforce-Query-Options", tc.header)
		m, _ := v.(map[string]any)
		if recs, _ := m["records"].([]any); status != 200 || len(recs) != tc.page || m["totalSize"] != float64(450) {
			t.Errorf("%q: %d, %d records", tc.header, status, len(recs))
		}
	}
}

func TestExpiredSessionTokensAreNeverReissued(t *testing.T) {
	s := newSim(t, Config{})
	old := s.org.Session("")
	s.org.ExpireSessions()
	fresh := s.org.Session("")
	if fresh == old {
		t.Fatalf("the expired token %s was issued again", old)
	}
	if status, v := s.rest(t, old, "GET", "limits", ""); status != 401 || errorCode(v) != "INVALID_SESSION_ID" {
		t.Errorf("expired token = %d %v", status, v)
	}
}

func TestStandardDuplicateRules(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := newSim(t, Config{StandardDuplicateRules: on})
		tok := s.org.Session("")
		for _, obj := range []string{"Lead", "Contact"} {
			body := `{"LastName":"Dup","Company":"C","Email":"dup@example.com"}`
			if obj == "Contact" {
				body = `{"LastName":"Dup","Email":"dup@example.com"}`
			}
			if status, v := s.rest(t, tok, "POST", "sobjects/"+obj, body); status != 201 {
				t.Fatalf("first %s = %d %v", obj, status, v)
			}
			status, v := s.rest(t, tok, "POST", "sobjects/"+obj, body)
			if !on {
				if status != 201 {
					t.Errorf("rules off: second %s = %d %v", obj, status, v)
				}
				continue
			}
			dr, _ := v.([]any)
			if status != 400 || errorCode(v) != "DUPLICATES_DETECTED" ||
				dr[0].(map[string]any)["duplicateResult"].(map[string]any)["duplicateRule"] != "Standard_"+obj+"_Duplicate_Rule" {
				t.Errorf("rules on: second %s = %d %v", obj, status, v)
			}
			// Alert, not Block: allowSave=true saves it.
			if status, v := s.rest(t, tok, "POST", "sobjects/"+obj, body, "Sforce-Duplicate-Rule-Header", "allowSave=true"); status != 201 {
				t.Errorf("allowSave: %s = %d %v", obj, status, v)
			}
		}
	}
}

func TestSOQLNamesAreCaseInsensitive(t *testing.T) {
	s := newSim(t, Config{})
	acc, _ := s.org.CreateAs("", "Account", map[string]any{"Name": "Acme"})
	if _, err := s.org.CreateAs("", "Contact", map[string]any{"LastName": "Lovelace", "AccountId": acc}); err != nil {
		t.Fatal(err)
	}
	status, v := s.rest(t, s.org.Session(""), "GET", "query?q="+strings.ReplaceAll("select id, lastname, account.name from contact where lastname = 'Lovelace' order by lastname", " ", "+"), "")
	m, _ := v.(map[string]any)
	recs, _ := m["records"].([]any)
	if status != 200 || len(recs) != 1 {
		t.Fatalf("lower-case query = %d %v", status, v)
	}
	rec := recs[0].(map[string]any)
	if rec["LastName"] != "Lovelace" || rec["Id"] == nil || rec["Account"].(map[string]any)["Name"] != "Acme" {
		t.Errorf("fields not answered under their names: %v", rec)
	}
	if status, v := s.rest(t, s.org.Session(""), "GET", "sobjects/contact/describe", ""); status != 200 || v.(map[string]any)["name"] != "Contact" {
		t.Errorf("lower-case sObject in the URL = %d", status)
	}
}
