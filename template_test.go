// Tests of the deployment files at the repository root: template.yaml,
// the Makefile's SAM build targets, functions/ and events/.
package crmsync_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
)

func openTemplate(t *testing.T) *cloudformation.Template {
	t.Helper()
	tmpl, err := goformation.Open("template.yaml")
	if err != nil {
		t.Fatalf("parse template.yaml: %v", err)
	}
	return tmpl
}

// makeTargets returns each build-<LogicalId> target's recipe.
func makeTargets(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Z_]+)\s*:?=\s*(.*)$`).FindAllStringSubmatch(string(b), -1) {
		vars[m[1]] = m[2]
	}
	expand := regexp.MustCompile(`\$\(([A-Z_]+)\)`)
	targets := map[string]string{}
	re := regexp.MustCompile(`(?m)^build-(\w+):\s*\n((?:\t.*\n?)+)`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		targets[m[1]] = expand.ReplaceAllStringFunc(m[2], func(v string) string {
			if x, ok := vars[v[2:len(v)-1]]; ok {
				return x
			}
			return v
		})
	}
	return targets
}

var recipeFunction = regexp.MustCompile(`\./functions/([a-z0-9-]+)`)

func TestTemplateFunctionsHaveBuildTargetsAndFolders(t *testing.T) {
	tmpl := openTemplate(t)
	targets := makeTargets(t)
	for id, fn := range tmpl.GetAllServerlessFunctionResources() {
		recipe, ok := targets[id]
		if !ok {
			t.Errorf("function %s has no build-%s target in the Makefile", id, id)
			continue
		}
		for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "lambda.norpc", "$(ARTIFACTS_DIR)/bootstrap"} {
			if !strings.Contains(recipe, want) {
				t.Errorf("build-%s does not mention %s", id, want)
			}
		}
		m := recipeFunction.FindStringSubmatch(recipe)
		if m == nil {
			t.Errorf("build-%s builds no ./functions/<name>", id)
			continue
		}
		if _, err := os.Stat(filepath.Join("functions", m[1], "main.go")); err != nil {
			t.Errorf("function %s: %v", id, err)
		}
		if fn.AWSCloudFormationMetadata["BuildMethod"] != "makefile" {
			t.Errorf("function %s: Metadata.BuildMethod is not makefile", id)
		}
	}
}

func TestTemplateGlobalsFollowHouseStyle(t *testing.T) {
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Runtime: provided.al2023", "Architectures: [arm64]", "Handler: bootstrap", "LogFormat: JSON"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("template.yaml Globals lack %q", want)
		}
	}
}

func TestTemplateStateTable(t *testing.T) {
	tmpl := openTemplate(t)
	tables := tmpl.GetAllDynamoDBTableResources()
	table, ok := tables["StateTable"]
	if !ok || len(tables) != 1 {
		t.Fatalf("want exactly one table StateTable, got %d", len(tables))
	}
	if table.BillingMode == nil || *table.BillingMode != "PAY_PER_REQUEST" {
		t.Error("table is not PAY_PER_REQUEST")
	}
	if table.TimeToLiveSpecification == nil || table.TimeToLiveSpecification.AttributeName == nil || *table.TimeToLiveSpecification.AttributeName != "ttl" ||
		!table.TimeToLiveSpecification.Enabled {
		t.Error("TTL on attribute ttl is not enabled")
	}
	if table.PointInTimeRecoverySpecification == nil || table.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled == nil ||
		!*table.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
		t.Error("point-in-time recovery is off")
	}
	if table.SSESpecification == nil || !table.SSESpecification.SSEEnabled {
		t.Error("SSE is off")
	}
	keys := map[string]string{}
	for _, k := range table.KeySchema {
		keys[k.AttributeName] = k.KeyType
	}
	if keys["PK"] != "HASH" || keys["SK"] != "RANGE" {
		t.Errorf("key schema = %v, want PK HASH, SK RANGE", keys)
	}
	if len(table.GlobalSecondaryIndexes) != 1 || table.GlobalSecondaryIndexes[0].IndexName != "GSI1" {
		t.Error("want one GSI named GSI1 (pkg/ddbstore uses it for listings)")
	}
}

func TestTemplateTriggerQueue(t *testing.T) {
	tmpl := openTemplate(t)
	queues := tmpl.GetAllSQSQueueResources()
	q, ok := queues["TriggerQueue"]
	if !ok {
		t.Fatal("no TriggerQueue")
	}
	dlq, ok := queues["TriggerDeadLetterQueue"]
	if !ok {
		t.Fatal("no TriggerDeadLetterQueue")
	}
	if q.FifoQueue == nil || !*q.FifoQueue || dlq.FifoQueue == nil || !*dlq.FifoQueue {
		t.Error("the trigger queue and its DLQ must both be FIFO")
	}
	if q.ContentBasedDeduplication != nil && *q.ContentBasedDeduplication {
		t.Error("content-based deduplication must be off: crmsync sets the dedupe id")
	}
	redrive, _ := json.Marshal(q.RedrivePolicy)
	if !strings.Contains(string(redrive), "deadLetterTargetArn") || !strings.Contains(string(redrive), "maxReceiveCount") {
		t.Errorf("redrive policy incomplete: %s", redrive)
	}
	worker, vis := paramDefault(t, tmpl, "WorkerTimeoutSeconds"), paramDefault(t, tmpl, "TriggerVisibilityTimeoutSeconds")
	if vis < 6*worker {
		t.Errorf("visibility timeout default %v < 6 x worker timeout default %v", vis, worker)
	}
}

func paramDefault(t *testing.T, tmpl *cloudformation.Template, name string) float64 {
	t.Helper()
	p, ok := tmpl.Parameters[name]
	if !ok {
		t.Fatalf("no parameter %s", name)
	}
	switch v := p.Default.(type) {
	case float64:
		return v
	case int:
		return float64(v)
	}
	t.Fatalf("parameter %s default %v is not a number", name, p.Default)
	return 0
}

// Every file in events/ is <function>-<scenario>.json for a function that
// exists, and is JSON. (Each function's own test runs its files through
// its handler.)
func TestEventsNameTheirFunction(t *testing.T) {
	entries, err := os.ReadDir("events")
	if err != nil {
		t.Fatal(err)
	}
	fns, _ := os.ReadDir("functions")
	for _, e := range entries {
		name := e.Name()
		if name == "README.md" {
			continue
		}
		var fn string
		for _, f := range fns {
			if strings.HasPrefix(name, f.Name()+"-") && strings.HasSuffix(name, ".json") {
				fn = f.Name()
			}
		}
		if fn == "" {
			t.Errorf("events/%s is not named <function>-<scenario>.json for a function in functions/", name)
			continue
		}
		b, err := os.ReadFile(filepath.Join("events", name))
		if err != nil || !json.Valid(b) {
			t.Errorf("events/%s is not valid JSON (%v)", name, err)
		}
	}
}
