package salesforcesim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/salesforce"
)

// codeOf returns the Salesforce code, category and transience of an
// error the client surfaced (a top-level or per-record error).
func codeOf(t *testing.T, err error) (string, crmsync.Category, bool) {
	t.Helper()
	var ae *salesforce.APIError
	var re *salesforce.RecordError
	switch {
	case errors.As(err, &ae):
		return ae.Code(), ae.Category(), ae.Transient()
	case errors.As(err, &re):
		return re.StatusCode, re.Category(), re.Transient()
	}
	t.Fatalf("not a Salesforce error: %v", err)
	return "", "", false
}

// Each org rule, the code the client surfaces for it and its category.
func TestOrgRules(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(s *sim)
		fields   map[string]any
		code     string
		category crmsync.Category
		errField string
	}{
		{name: "required field", fields: map[string]any{"LastName": "Silva"},
			code: salesforce.CodeRequiredFieldMissing, category: crmsync.CategoryPropertyValues, errField: "Company"},
		{name: "restricted picklist", fields: map[string]any{"LastName": "Silva", "Company": "S", "Status": "Hot Prospect"},
			code: salesforce.CodeRestrictedPicklist, category: crmsync.CategoryPropertyValues, errField: "Status"},
		{name: "state without country", fields: map[string]any{"LastName": "Silva", "Company": "S", "StateCode": "CA"},
			code: salesforce.CodeFieldIntegrity, category: crmsync.CategoryPropertyValues, errField: "StateCode"},
		{name: "state of another country", fields: map[string]any{"LastName": "Silva", "Company": "S", "CountryCode": "US", "StateCode": "ON"},
			code: salesforce.CodeFieldIntegrity, category: crmsync.CategoryPropertyValues, errField: "StateCode"},
		{name: "unknown country code", fields: map[string]any{"LastName": "Silva", "Company": "S", "CountryCode": "XX"},
			code: salesforce.CodeFieldIntegrity, category: crmsync.CategoryPropertyValues, errField: "CountryCode"},
		{name: "string too long", fields: map[string]any{"LastName": strings.Repeat("x", 81), "Company": "S"},
			code: salesforce.CodeStringTooLong, category: crmsync.CategoryPropertyValues, errField: "LastName"},
		{name: "invalid email", fields: map[string]any{"LastName": "Silva", "Company": "S", "Email": "ana(at)example.com"},
			code: salesforce.CodeInvalidEmailAddress, category: crmsync.CategoryPropertyValues, errField: "Email"},
		{name: "formula field written", fields: map[string]any{"LastName": "Silva", "Company": "S", "Score_Band__c": "Hot"},
			code: salesforce.CodeReadOnlyField, category: crmsync.CategoryPermissions, errField: "Score_Band__c"},
		{name: "validation rule", setup: func(s *sim) {
			s.org.AddValidationRule(ValidationRule{Object: "Lead", Name: "Phone_When_Working", Field: "Phone",
				Message: "Phone is required when Status is Working - Contacted",
				Fails:   func(r map[string]any) bool { return r["Status"] == "Working - Contacted" && r["Phone"] == nil }})
		}, fields: map[string]any{"LastName": "Silva", "Company": "S", "Status": "Working - Contacted"},
			code: salesforce.CodeCustomValidation, category: crmsync.CategoryCustomCode, errField: "Phone"},
		{name: "duplicate rule on email", setup: func(s *sim) {
			s.org.AddDuplicateRule(DuplicateRule{Object: "Lead", Name: "Lead_Email", Block: true})
			if _, err := s.org.CreateAs("", "Lead", map[string]any{"LastName": "First", "Company": "S", "Email": "ANA@example.com"}); err != nil {
				panic(err)
			}
		}, fields: map[string]any{"LastName": "Silva", "Company": "S", "Email": "ana@example.com"},
			code: salesforce.CodeDuplicatesDetected, category: crmsync.CategoryDuplicates},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, Config{})
			if tt.setup != nil {
				tt.setup(s)
			}
			c := s.client(t, "")
			ctx := context.Background()
			_, err := c.CreateRecord(ctx, "Lead", tt.fields)
			code, cat, transient := codeOf(t, err)
			if code != tt.code || cat != tt.category || transient {
				t.Errorf("create: %s / %s / transient %v; want %s / %s", code, cat, transient, tt.code, tt.category)
			}
			var ae *salesforce.APIError
			if tt.errField != "" && errors.As(err, &ae) && !reflect.DeepEqual(ae.Errors[0].Fields, []string{tt.errField}) &&
				!(tt.code == salesforce.CodeRequiredFieldMissing && strings.Contains(strings.Join(ae.Errors[0].Fields, ","), tt.errField)) {
				t.Errorf("fields = %v, want %s", ae.Errors[0].Fields, tt.errField)
			}
			// The same rule surfaces per record in a collection.
			res, err := c.CreateRecords(ctx, []salesforce.Record{
				{Type: "Lead", Fields: map[string]any{"LastName": "Fine", "Company": "OK Ltd"}},
				{Type: "Lead", Fields: tt.fields},
			})
			if err != nil {
				t.Fatal(err)
			}
			if !res[0].OK() || res[1].OK() {
				t.Fatalf("collection results = %+v", res)
			}
			if code, cat, _ := codeOf(t, res[1].Err()); code != tt.code || cat != tt.category {
				t.Errorf("collection: %s / %s", code, cat)
			}
		})
	}
}

func TestDuplicateRuleMatchesAndAllowSave(t *testing.T) {
	s := newSim(t, Config{})
	s.org.AddDuplicateRule(DuplicateRule{Object: "Contact", Name: "Contact_Email"}) // an alert rule
	first, err := s.org.CreateAs("", "Contact", map[string]any{"LastName": "Wei", "Email": "li.wei@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = s.client(t, "").CreateRecord(ctx, "Contact", map[string]any{"LastName": "Wei", "Email": "Li.Wei@example.com"})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.Code() != salesforce.CodeDuplicatesDetected || !reflect.DeepEqual(ae.MatchedIDs(), []string{first}) {
		t.Fatalf("duplicate: %v", err)
	}
	allow := s.client(t, "", salesforce.WithDuplicateRuleHeader(salesforce.DuplicateRuleHeader{AllowSave: true}))
	if _, err := allow.CreateRecord(ctx, "Contact", map[string]any{"LastName": "Wei", "Email": "li.wei@example.com"}); err != nil {
		t.Errorf("alert rule with allowSave: %v", err)
	}
	s.org.AddDuplicateRule(DuplicateRule{Object: "Contact", Name: "Blocking", Block: true})
	if _, err := allow.CreateRecord(ctx, "Contact", map[string]any{"LastName": "Wei", "Email": "li.wei@example.com"}); !errors.As(err, &ae) || ae.Code() != salesforce.CodeDuplicatesDetected {
		t.Errorf("blocking rule with allowSave: %v", err)
	}
}

func TestSharing(t *testing.T) {
	s := newSim(t, Config{})
	rep := s.org.AddUser("rep@acme.example", "Sales Rep")
	hidden, _ := s.org.CreateAs(rep, "Account", map[string]any{"Name": "Hidden Corp"})
	shared, _ := s.org.CreateAs(rep, "Lead", map[string]any{"LastName": "Shared", "Company": "S"})
	readOnly, _ := s.org.CreateAs(rep, "Lead", map[string]any{"LastName": "ReadOnly", "Company": "S"})
	secret, _ := s.org.CreateAs(rep, "Lead", map[string]any{"LastName": "Secret", "Company": "S"})
	own, _ := s.org.CreateAs("", "Lead", map[string]any{"LastName": "Own", "Company": "S"})
	s.org.Share(shared, s.org.IntegrationUserID, ReadWrite)
	s.org.Share(readOnly, s.org.IntegrationUserID, ReadOnly)
	c := s.client(t, "")
	ctx := context.Background()

	var last []string
	if err := c.QueryEach(ctx, "SELECT LastName FROM Lead ORDER BY LastName", func(rs []salesforce.Record) error {
		for _, r := range rs {
			last = append(last, r.Text("LastName"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Own", "ReadOnly", "Shared"}; !reflect.DeepEqual(last, want) {
		t.Errorf("visible leads = %v, want %v", last, want)
	}
	_, err := c.GetRecord(ctx, "Lead", secret)
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeNotFound || cat != crmsync.CategoryPermissions || !errors.Is(err, crmsync.ErrNotFound) {
		t.Errorf("read invisible: %s / %s", code, cat)
	}
	err = c.UpdateRecord(ctx, "Lead", secret, map[string]any{"Title": "x"})
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeNotFound || cat != crmsync.CategoryPermissions {
		t.Errorf("write invisible: %s / %s", code, cat)
	}
	err = c.UpdateRecord(ctx, "Lead", readOnly, map[string]any{"Title": "x"})
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeInsufficientAccess || cat != crmsync.CategoryPermissions {
		t.Errorf("write read-only: %s / %s", code, cat)
	}
	if err := c.UpdateRecord(ctx, "Lead", shared, map[string]any{"Title": "x"}); err != nil {
		t.Errorf("write shared: %v", err)
	}
	if err := c.UpdateRecord(ctx, "Lead", own, map[string]any{"Title": "x"}); err != nil {
		t.Errorf("write own: %v", err)
	}
	_, err = c.CreateRecord(ctx, "Contact", map[string]any{"LastName": "x", "AccountId": hidden})
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeInsufficientAccessCrossRef || cat != crmsync.CategoryPermissions {
		t.Errorf("lookup to invisible account: %s / %s", code, cat)
	}
	_, err = c.CreateRecord(ctx, "Contact", map[string]any{"LastName": "x", "AccountId": "0015e0000099999AAA"})
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeInvalidCrossReferenceKey || cat != crmsync.CategoryAssociations {
		t.Errorf("lookup to a missing account: %s / %s", code, cat)
	}
	if err := s.org.DeleteAs("", own); err != nil {
		t.Fatal(err)
	}
	err = c.UpdateRecord(ctx, "Lead", own, map[string]any{"Title": "y"})
	if code, cat, _ := codeOf(t, err); code != salesforce.CodeEntityIsDeleted || cat != crmsync.CategoryPermissions {
		t.Errorf("write deleted: %s / %s", code, cat)
	}
	// The rep sees their own record.
	if _, err := s.client(t, rep).GetRecord(ctx, "Lead", secret); err != nil {
		t.Errorf("owner reads own record: %v", err)
	}
}

func TestRequestLimit(t *testing.T) {
	s := newSim(t, Config{DailyLimit: 3})
	c := s.client(t, "")
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.Limits(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := c.Limits(ctx)
	if code, _, transient := codeOf(t, err); code != salesforce.CodeRequestLimitExceeded || transient || !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Errorf("past the limit: %s transient %v", code, transient)
	}
	if li, _ := c.LimitInfo(); li.Used != 3 || li.Max != 3 {
		t.Errorf("limit info = %+v", li)
	}
	s.clock.Add(23 * time.Hour)
	if _, err := c.Limits(ctx); !errors.Is(err, salesforce.ErrRequestLimitExceeded) {
		t.Errorf("23 h later: %v", err)
	}
	s.clock.Add(61 * time.Minute)
	if _, err := c.Limits(ctx); err != nil {
		t.Errorf("after the rolling 24 h: %v", err)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		faults Faults
		code   string
	}{
		{"lock row", Faults{LockRow: 1}, salesforce.CodeUnableToLockRow},
		{"server error", Faults{ServerError: 1}, "SERVER_UNAVAILABLE"},
		{"dropped connection", Faults{Drop: 1}, ""},
		{"timeout", Faults{Timeout: 1}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, Config{})
			s.org.SetFaults(tt.faults)
			hc := s.srv.Client()
			hc.Timeout = 100 * time.Millisecond
			_, err := s.client(t, "", salesforce.WithHTTPClient(hc)).CreateRecord(ctx, "Lead", map[string]any{"LastName": "x", "Company": "y"})
			if !crmsync.IsTransient(err) {
				t.Errorf("not transient: %v", err)
			}
			if tt.code == "" {
				var te *salesforce.TransportError
				if !errors.As(err, &te) {
					t.Errorf("want a transport error, got %v", err)
				}
				return
			}
			if code, _, _ := codeOf(t, err); code != tt.code {
				t.Errorf("code %s, want %s", code, tt.code)
			}
		})
	}
	// Seeded lock-row faults in a collection hit the same records in every
	// run, and only those.
	pattern := func() []bool {
		s := newSim(t, Config{Seed: 42})
		s.org.SetFaults(Faults{LockRow: 0.3})
		recs := make([]salesforce.Record, 50)
		for i := range recs {
			recs[i] = salesforce.Record{Type: "Lead", Fields: map[string]any{"LastName": "x", "Company": "y"}}
		}
		res, err := s.client(t, "").CreateRecords(ctx, recs)
		if err != nil {
			t.Fatal(err)
		}
		var failed []bool
		for _, r := range res {
			if !r.OK() {
				if code, _, transient := codeOf(t, r.Err()); code != salesforce.CodeUnableToLockRow || !transient {
					t.Errorf("record error %s transient %v", code, transient)
				}
			}
			failed = append(failed, !r.OK())
		}
		if got := len(s.org.Records("Lead")); got+count(failed) != 50 {
			t.Errorf("%d saved + %d failed != 50", got, count(failed))
		}
		return failed
	}
	a, b := pattern(), pattern()
	if !reflect.DeepEqual(a, b) || count(a) == 0 || count(a) == 50 {
		t.Errorf("fault pattern not repeatable or degenerate: %d then %d failures", count(a), count(b))
	}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func TestAllOrNoneRollback(t *testing.T) {
	s := newSim(t, Config{})
	tok := s.org.Session("")
	body := `{"allOrNone":true,"records":[{"attributes":{"type":"Lead"},"LastName":"ok","Company":"c"},{"attributes":{"type":"Lead"},"LastName":"bad","Company":"c","Email":"nope"}]}`
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+prefix+"/services/data/v62.0/composite/sobjects", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := string(b)
	if resp.StatusCode != 200 || !strings.Contains(got, `"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK"`) || !strings.Contains(got, `"statusCode":"INVALID_EMAIL_ADDRESS"`) {
		t.Errorf("answer %d %s", resp.StatusCode, got)
	}
	if n := len(s.org.Records("Lead")); n != 0 {
		t.Errorf("%d leads saved; allOrNone must roll back", n)
	}
}

func TestSessionExpiryReauth(t *testing.T) {
	s := newSim(t, Config{})
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.srv.Client())
	src := salesforce.JWTConfig{LoginURL: s.srv.URL + prefix, ClientID: "3MVG9-sim", Username: "integration@crmsync.example",
		PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})}.TokenSource(ctx)
	// No base URL: the instance comes from the token response.
	c, err := salesforce.NewClient(salesforce.WithTokenSource(src), salesforce.WithHTTPClient(s.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Limits(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.org.ExpireSessions()
	if _, err := c.Limits(context.Background()); err != nil {
		t.Errorf("after session expiry: %v", err)
	}
	// The call answered 401 and retried inside the transport is counted
	// once, by the client and by the org alike.
	if li, calls := c.LimitInfo(); li.Used != 2 || calls != 2 {
		t.Errorf("limit info %+v after %d calls", li, calls)
	}
	// The refresh token flow works too, and an unknown user is refused.
	rt := salesforce.RefreshTokenConfig{LoginURL: s.srv.URL + prefix, ClientID: "3MVG9-sim", RefreshToken: salesforce.Secret(s.org.RefreshToken(""))}
	c2, _ := salesforce.NewClient(salesforce.WithTokenSource(rt.TokenSource(ctx)), salesforce.WithHTTPClient(s.srv.Client()))
	if _, err := c2.Limits(context.Background()); err != nil {
		t.Errorf("refresh token flow: %v", err)
	}
	bad := salesforce.RefreshTokenConfig{LoginURL: s.srv.URL + prefix, ClientID: "3MVG9-sim", RefreshToken: "unknown"}
	c3, _ := salesforce.NewClient(salesforce.WithTokenSource(bad.TokenSource(ctx)), salesforce.WithHTTPClient(s.srv.Client()))
	var ae *salesforce.AuthError
	if _, err := c3.Limits(context.Background()); !errors.As(err, &ae) || ae.ErrorCode != "invalid_grant" {
		t.Errorf("unknown refresh token: %v", err)
	}
}

func TestUpsertWithSeveralMatches(t *testing.T) {
	s := newSim(t, Config{})
	lead, _ := s.org.Object("Lead")
	lead.AddField(&Field{Name: "Legacy_Id__c", Type: TypeString, Length: 40, ExternalID: true}) // not unique
	for range 2 {
		if _, err := s.org.CreateAs("", "Lead", map[string]any{"LastName": "x", "Company": "y", "Legacy_Id__c": "L-1"}); err != nil {
			t.Fatal(err)
		}
	}
	c := s.client(t, "")
	_, err := c.UpsertRecord(context.Background(), "Lead", "Legacy_Id__c", "L-1", map[string]any{"Title": "z"})
	var ae *salesforce.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 300 || ae.Code() != salesforce.CodeDuplicateExternalID ||
		ae.Category() != crmsync.CategoryDuplicates || len(ae.MatchedIDs()) != 2 {
		t.Errorf("upsert with two matches: %v", err)
	}
	d, err := c.Describe(context.Background(), "Lead")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := d.Field("Legacy_Id__c"); !ok || !f.ExternalID || f.Unique {
		t.Errorf("custom field in describe = %+v, %v", f, ok)
	}
}
