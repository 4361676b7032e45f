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
	"github.com/crmsync/crmsync/pkg/hubspot"
	"github.com/crmsync/crmsync/pkg/mapping"
	"github.com/crmsync/crmsync/pkg/salesforce"
	"github.com/crmsync/crmsync/pkg/settingsfile"
)

const settingsExportUsage = `usage: crmsync settings export [-data FILE | -table NAME | -local URL] [-o FILE]

Writes the settings in force as YAML (the defaults until a file is
imported), to standard output or -o FILE. Edit the file, then validate and
import it. While crmsync local runs, it reads them from the running stack.
`

const settingsValidateUsage = `usage: crmsync settings validate [-online] FILE

Checks a settings file and says which line is wrong and why. Offline it
also flags mapped properties and fields that neither built-in schema knows
(the standard HubSpot properties and Salesforce fields, as the sandbox has
them): custom ones are fine, but only -online can tell.

-online also reads both CRMs' metadata (HubSpot properties, Salesforce
describe) and checks that every mapped property and field exists and that
their types can sync; lossy mappings (picklist values one side lacks, …) are
warnings. It reads the credentials from the environment:
  CRMSYNC_HUBSPOT_TOKEN         HubSpot private app token (crm.schemas.*.read scopes)
  CRMSYNC_HUBSPOT_BASE_URL      HubSpot API base URL (default https://api.hubapi.com/)
  CRMSYNC_SALESFORCE_BASE_URL   Salesforce instance URL (https://MyDomain.my.salesforce.com)
  CRMSYNC_SALESFORCE_TOKEN      Salesforce access token (e.g. sf org display --json)
Against the sandbox of a running crmsync --sandbox, see the README
("Settings against the sandbox") for the values.
`

const settingsImportUsage = `usage: crmsync settings import [-data FILE | -table NAME | -local URL] FILE

Validates a settings file and stores it. The file's version must be the
stored version (export again if the settings changed since). While crmsync
local runs, it stores them in the running stack, which uses them from the
next trigger on.
`

func setupSettingsExport(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	output := fs.String("o", "", "write to this file instead of standard output")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("settings export", args, 0, ""); err != nil {
			return err
		}
		st, release, _, err := sf.open(ctx)
		if err != nil {
			return err
		}
		defer release()
		s, err := st.Settings(ctx)
		if err != nil {
			return fmt.Errorf("settings export: %w", err)
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
	}
}

func setupSettingsValidate(fs *flag.FlagSet) runFunc {
	online := fs.Bool("online", false, "also check the mappings against both CRMs' metadata (credentials from the environment)")
	return func(ctx context.Context, out io.Writer, args []string) error {
		if err := wantArgs("settings validate", args, 1, "one file"); err != nil {
			return err
		}
		path := args[0]
		s, b, err := readSettingsFile(path)
		if err != nil {
			return err
		}
		if !*online {
			return validateOffline(ctx, path, b, s, out)
		}
		meta, err := newMetadataSources(loadOnlineConfig(os.Getenv))
		if err != nil {
			return err
		}
		return validateOnline(ctx, path, b, s, meta, out)
	}
}

func setupSettingsImport(fs *flag.FlagSet) runFunc {
	sf := addStateFlags(fs)
	return func(ctx context.Context, out io.Writer, args []string) error {
		s, st, release, where, err := settingsFileAndState(ctx, "settings import", sf, args)
		if err != nil {
			return err
		}
		defer release()
		stored, err := st.PutSettings(ctx, s)
		if errors.Is(err, crmsync.ErrVersionConflict) {
			return fmt.Errorf("%s: the stored settings changed since this file was exported (file version %d): export again and re-apply your edits: %w", args[0], s.Version, err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "imported %s into %s: settings version %d\n", args[0], where, stored.Version)
		return nil
	}
}

// settingsFileAndState reads the one settings file a command takes, then
// opens the state it works on.
func settingsFileAndState(ctx context.Context, cmd string, sf stateFlags, args []string) (crmsync.Settings, state, func() error, string, error) {
	if err := wantArgs(cmd, args, 1, "one settings file"); err != nil {
		return crmsync.Settings{}, nil, nil, "", err
	}
	s, _, err := readSettingsFile(args[0])
	if err != nil {
		return s, nil, nil, "", err
	}
	st, release, where, err := sf.open(ctx)
	return s, st, release, where, err
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
		return metadataSources{}, usageError("settings validate -online: set " + strings.Join(missing, ", ") + " (crmsync settings validate -h describes them)")
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
	problems = append(problems, mapping.CheckRules(s.Effective().SelectiveSync.Rules, hsMeta, sfMeta)...)
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
