package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/engine"
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/settingsfile"
)

const settingsUsage = `usage:
  crmsync settings export [-data FILE | -table NAME] [-o FILE]   write the stored (or default) settings as YAML
  crmsync settings validate [-online] FILE                        check a settings file; says which line and why
  crmsync settings import [-data FILE | -table NAME] FILE        validate and store a settings file

validate -online also reads both CRMs' metadata (HubSpot properties, Salesforce
describe) and checks that every mapped property and field exists and that their
types can sync; lossy mappings (picklist values one side lacks, …) are warnings.
It reads the credentials from the environment:
  CRMSYNC_HUBSPOT_TOKEN         HubSpot private app token (crm.schemas.*.read scopes)
  CRMSYNC_HUBSPOT_BASE_URL      HubSpot API base URL (default https://api.hubapi.com/)
  CRMSYNC_SALESFORCE_BASE_URL   Salesforce instance URL (https://MyDomain.my.salesforce.com)
  CRMSYNC_SALESFORCE_TOKEN      Salesforce access token (e.g. sf org display --json)
`

func runSettings(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, settingsUsage)
		return usageError("settings: no subcommand")
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(out, settingsUsage)
		return nil
	}
	fs := flag.NewFlagSet("settings "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	sf := addStoreFlags(fs)
	output := fs.String("o", "", "export: write to this file instead of standard output")
	online := fs.Bool("online", false, "validate: also check the mappings against both CRMs' metadata (credentials from the environment)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	switch args[0] {
	case "export":
		st, closeStore, _, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		s, err := engine.LoadSettings(ctx, st)
		if err != nil {
			return err
		}
		b, err := settingsfile.Encode(s)
		if err != nil {
			return err
		}
		if *output == "" {
			_, err = out.Write(b)
			return err
		}
		return os.WriteFile(*output, b, 0o644)

	case "validate":
		if fs.NArg() != 1 {
			return usageError("settings validate: want one file")
		}
		s, b, err := readSettingsFile(fs.Arg(0))
		if err != nil {
			return err
		}
		if !*online {
			fmt.Fprintf(out, "%s: valid\n", fs.Arg(0))
			return nil
		}
		meta, err := newMetadataSources(loadOnlineConfig(os.Getenv))
		if err != nil {
			return err
		}
		return validateOnline(ctx, fs.Arg(0), b, s, meta, out)

	case "import":
		if fs.NArg() != 1 {
			return usageError("settings import: want one file")
		}
		s, err := readSettings(fs.Arg(0))
		if err != nil {
			return err
		}
		st, closeStore, where, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer closeStore()
		stored, err := st.PutSettings(ctx, s)
		if errors.Is(err, crmsync.ErrVersionConflict) {
			return fmt.Errorf("%s: the stored settings changed since this file was exported (file version %d): export again and re-apply your edits: %w", fs.Arg(0), s.Version, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "imported %s into %s: settings version %d\n", fs.Arg(0), where, stored.Version)
		return nil
	}
	fmt.Fprint(out, settingsUsage)
	return usageError(fmt.Sprintf("settings: unknown subcommand %q", args[0]))
}

func readSettings(path string) (crmsync.Settings, error) {
	s, _, err := readSettingsFile(path)
	return s, err
}

// readSettingsFile decodes and validates a settings file, and returns its
// bytes too (to put later problems on its lines).
func readSettingsFile(path string) (crmsync.Settings, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return crmsync.Settings{}, nil, err
	}
	s, err := settingsfile.Decode(b)
	if err != nil {
		return s, b, fmt.Errorf("%s: %w", path, err)
	}
	return s, b, nil
}

// hubSpotProperties is the HubSpot metadata validate -online reads;
// *hubspot.Client implements it.
type hubSpotProperties interface {
	// Properties returns the properties of a HubSpot object type. Errors
	// are the client's: *hubspot.APIError (401 bad token, 403 missing
	// scope, …) or a transport error.
	Properties(ctx context.Context, o crmsync.ObjectType) ([]hubspot.Property, error)
}

// salesforceDescriber is the Salesforce metadata validate -online reads;
// *salesforce.Client implements it.
type salesforceDescriber interface {
	// Describe returns the describe of an sObject type. Errors are the
	// client's: *salesforce.APIError (NOT_FOUND for an unknown sObject,
	// INVALID_SESSION_ID, …) or a transport error.
	Describe(ctx context.Context, sobject string) (*salesforce.Describe, error)
}

var (
	_ hubSpotProperties   = (*hubspot.Client)(nil)
	_ salesforceDescriber = (*salesforce.Client)(nil)
)

// onlineConfig is where validate -online finds both CRMs.
type onlineConfig struct {
	HubSpotToken      string
	HubSpotBaseURL    string
	SalesforceBaseURL string
	SalesforceToken   string
}

func loadOnlineConfig(getenv func(string) string) onlineConfig {
	return onlineConfig{
		HubSpotToken:      getenv("CRMSYNC_HUBSPOT_TOKEN"),
		HubSpotBaseURL:    getenv("CRMSYNC_HUBSPOT_BASE_URL"),
		SalesforceBaseURL: getenv("CRMSYNC_SALESFORCE_BASE_URL"),
		SalesforceToken:   getenv("CRMSYNC_SALESFORCE_TOKEN"),
	}
}

type metadataSources struct {
	hubspot    hubSpotProperties
	salesforce salesforceDescriber
}

// newMetadataSources builds both clients from cfg; missing settings are a
// usage error naming the variables.
func newMetadataSources(cfg onlineConfig) (metadataSources, error) {
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"CRMSYNC_HUBSPOT_TOKEN", cfg.HubSpotToken},
		{"CRMSYNC_SALESFORCE_BASE_URL", cfg.SalesforceBaseURL},
		{"CRMSYNC_SALESFORCE_TOKEN", cfg.SalesforceToken},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return metadataSources{}, usageError("settings validate -online: set " + strings.Join(missing, ", ") + " (crmsync settings help describes them)")
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	hsOpts := []hubspot.Option{hubspot.WithHTTPClient(hc), hubspot.WithPrivateAppToken(cfg.HubSpotToken)}
	if cfg.HubSpotBaseURL != "" {
		hsOpts = append(hsOpts, hubspot.WithBaseURL(cfg.HubSpotBaseURL))
	}
	hs, err := hubspot.NewClient(hsOpts...)
	if err != nil {
		return metadataSources{}, fmt.Errorf("settings validate -online: HubSpot client: %w", err)
	}
	sf, err := salesforce.NewClient(salesforce.WithHTTPClient(hc), salesforce.WithBaseURL(cfg.SalesforceBaseURL),
		salesforce.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cfg.SalesforceToken, TokenType: "Bearer"})))
	if err != nil {
		return metadataSources{}, fmt.Errorf("settings validate -online: Salesforce client: %w", err)
	}
	return metadataSources{hubspot: hs, salesforce: sf}, nil
}

// validateOnline checks the mappings of s (decoded from file b at path)
// against both CRMs' metadata: refusals are an error with their lines,
// warnings are printed.
func validateOnline(ctx context.Context, path string, b []byte, s crmsync.Settings, meta metadataSources, out io.Writer) error {
	hsMeta, sfMeta, err := readMetadata(ctx, s.Mappings, meta)
	if err != nil {
		return fmt.Errorf("settings validate -online: %w", err)
	}
	problems, warnings := mapping.CheckMappings(s.Mappings, hsMeta, sfMeta)
	problems = append(problems, mapping.CheckValueMaps(s.ValueMaps, hsMeta, sfMeta)...)
	for _, w := range settingsfile.Locate(b, warnings) {
		fmt.Fprintf(out, "%s: warning: %s\n", path, w)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %w", path, &settingsfile.Error{Problems: settingsfile.Locate(b, problems)})
	}
	fmt.Fprintf(out, "%s: valid; %d mappings checked against the HubSpot portal and the Salesforce org (%d warnings)\n",
		path, len(s.Mappings), len(warnings))
	return nil
}

// readMetadata reads the metadata of every object type the mappings use.
func readMetadata(ctx context.Context, ms []crmsync.FieldMapping, meta metadataSources) (
	map[crmsync.ObjectType]map[string]mapping.HubSpotProperty, map[crmsync.ObjectType]map[string]mapping.SalesforceField, error) {
	hsMeta := map[crmsync.ObjectType]map[string]mapping.HubSpotProperty{}
	sfMeta := map[crmsync.ObjectType]map[string]mapping.SalesforceField{}
	for _, m := range ms {
		if _, done := hsMeta[m.HubSpotObject]; !done {
			props, err := meta.hubspot.Properties(ctx, m.HubSpotObject)
			if err != nil {
				return nil, nil, fmt.Errorf("read HubSpot properties of %s: %w", m.HubSpotObject, err)
			}
			hsMeta[m.HubSpotObject] = hubspot.MappingMetadata(props)
		}
		if _, done := sfMeta[m.SalesforceObject]; !done {
			d, err := meta.salesforce.Describe(ctx, string(m.SalesforceObject))
			if err != nil {
				return nil, nil, fmt.Errorf("describe Salesforce %s: %w", m.SalesforceObject, err)
			}
			sfMeta[m.SalesforceObject] = salesforce.MappingMetadata(d)
		}
	}
	return hsMeta, sfMeta, nil
}
