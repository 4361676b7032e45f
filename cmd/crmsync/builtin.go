package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/sandbox/hubspotsim"
	"github.com/crmsync/crmsync/pkg/sandbox/salesforcesim"
	"github.com/crmsync/crmsync/pkg/settingsfile"
)

// builtinMetadata reads the built-in schemas — the standard HubSpot
// properties and Salesforce fields, as a fresh sandbox portal and org
// have them — through the same clients validate -online uses, served in
// process (no network).
func builtinMetadata() (metadataSources, error) {
	portal := hubspotsim.New(hubspotsim.Config{})
	org := salesforcesim.New(salesforcesim.Config{})
	const hsURL, sfURL = "http://hubspot.builtin", "http://salesforce.builtin"
	org.SetInstanceURL(sfURL)
	hs, err := hubspot.NewClient(hubspot.WithHTTPClient(&http.Client{Transport: inProcess{portal}}),
		hubspot.WithBaseURL(hsURL), hubspot.WithPrivateAppToken("builtin"))
	if err != nil {
		return metadataSources{}, fmt.Errorf("built-in HubSpot schema: %w", err)
	}
	sf, err := salesforce.NewClient(salesforce.WithHTTPClient(&http.Client{Transport: inProcess{org}}), salesforce.WithBaseURL(sfURL),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: org.Session(""), TokenType: "Bearer"})))
	if err != nil {
		return metadataSources{}, fmt.Errorf("built-in Salesforce schema: %w", err)
	}
	return metadataSources{hubspot: hs, salesforce: sf}, nil
}

// inProcess is an http.RoundTripper that serves requests with a handler.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // a RoundTripper must not change the request
	if r.Body == nil {
		r.Body = http.NoBody // as a server's request always has one
	}
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// unknownNameKeys are the mapping keys whose problems mean "this name is
// not in the schema" (as opposed to incompatible types).
var unknownNameKeys = []string{".hubspot_object", ".salesforce_object", ".hubspot_property", ".salesforce_field"}

// validateOffline reports the file valid, flagging each mapped property or
// field that neither built-in schema knows: it may be a custom one, which
// only validate -online can check.
func validateOffline(ctx context.Context, path string, b []byte, s crmsync.Settings, out io.Writer) error {
	meta, err := builtinMetadata()
	if err != nil {
		return err
	}
	hsMeta, sfMeta, err := readMetadata(ctx, s.Mappings, meta)
	if err != nil {
		return fmt.Errorf("settings validate: %w", err)
	}
	problems, _ := mapping.CheckMappings(s.Mappings, hsMeta, sfMeta)
	var unknown []crmsync.Problem
	for _, p := range problems {
		for _, k := range unknownNameKeys {
			if strings.HasSuffix(p.Path, k) {
				unknown = append(unknown, p)
			}
		}
	}
	for _, p := range settingsfile.Locate(b, unknown) {
		fmt.Fprintf(out, "%s: not in the built-in schema: %s\n", path, p)
	}
	if len(unknown) > 0 {
		fmt.Fprintf(out, "%s: valid; %d mapped name%s not in the built-in schemas (custom ones?): check them against your portal and org with\n"+
			"  crmsync settings validate -online %s\n", path, len(unknown), plural(len(unknown)), path)
		return nil
	}
	fmt.Fprintf(out, "%s: valid (offline; -online also checks the mappings against your portal and org)\n", path)
	return nil
}
