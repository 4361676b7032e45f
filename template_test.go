// Tests of the deployment files at the repository root: template.yaml,
// the Makefile's SAM build targets, functions/ and events/.
package crmsync_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/emf"
)

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
	targets := makeTargets(t)
	for id, fn := range resourcesOfType(yamlTree(t), "AWS::Serverless::Function") {
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
		if get(fn, "Metadata", "BuildMethod") != "makefile" {
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
	tables := resourcesOfType(yamlTree(t), "AWS::DynamoDB::Table")
	table, ok := tables["StateTable"]
	if !ok || len(tables) != 1 {
		t.Fatalf("want exactly one table StateTable, got %d", len(tables))
	}
	p := get(table, "Properties")
	if get(p, "BillingMode") != "PAY_PER_REQUEST" {
		t.Error("table is not PAY_PER_REQUEST")
	}
	if get(p, "TimeToLiveSpecification", "AttributeName") != "ttl" || get(p, "TimeToLiveSpecification", "Enabled") != "true" {
		t.Error("TTL on attribute ttl is not enabled")
	}
	if get(p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled") != "true" {
		t.Error("point-in-time recovery is off")
	}
	if get(p, "SSESpecification", "SSEEnabled") != "true" {
		t.Error("SSE is off")
	}
	keys := map[string]any{}
	list, _ := get(p, "KeySchema").([]any)
	for _, k := range list {
		keys[fmt.Sprint(get(k, "AttributeName"))] = get(k, "KeyType")
	}
	if keys["PK"] != "HASH" || keys["SK"] != "RANGE" {
		t.Errorf("key schema = %v, want PK HASH, SK RANGE", keys)
	}
	if gsis, _ := get(p, "GlobalSecondaryIndexes").([]any); len(gsis) != 1 || get(gsis[0], "IndexName") != "GSI1" {
		t.Error("want one GSI named GSI1 (pkg/ddbstore uses it for listings)")
	}
}

func TestTemplateTriggerQueue(t *testing.T) {
	root := yamlTree(t)
	queues := resourcesOfType(root, "AWS::SQS::Queue")
	q, ok := queues["TriggerQueue"]
	if !ok {
		t.Fatal("no TriggerQueue")
	}
	dlq, ok := queues["TriggerDeadLetterQueue"]
	if !ok {
		t.Fatal("no TriggerDeadLetterQueue")
	}
	if get(q, "Properties", "FifoQueue") != "true" || get(dlq, "Properties", "FifoQueue") != "true" {
		t.Error("the trigger queue and its DLQ must both be FIFO")
	}
	if get(q, "Properties", "ContentBasedDeduplication") == "true" {
		t.Error("content-based deduplication must be off: crmsync sets the dedupe id")
	}
	redrive, _ := json.Marshal(get(q, "Properties", "RedrivePolicy"))
	if !strings.Contains(string(redrive), "deadLetterTargetArn") || !strings.Contains(string(redrive), "maxReceiveCount") {
		t.Errorf("redrive policy incomplete: %s", redrive)
	}
	worker, vis := paramDefault(t, root, "WorkerTimeoutSeconds"), paramDefault(t, root, "TriggerVisibilityTimeoutSeconds")
	if vis < 6*worker {
		t.Errorf("visibility timeout default %v < 6 x worker timeout default %v", vis, worker)
	}
}

func paramDefault(t *testing.T, root map[string]any, name string) float64 {
	t.Helper()
	p := get(root, "Parameters", name)
	if p == nil {
		t.Fatalf("no parameter %s", name)
	}
	f, err := strconv.ParseFloat(fmt.Sprint(get(p, "Default")), 64)
	if err != nil {
		t.Fatalf("parameter %s default %v is not a number", name, get(p, "Default"))
	}
	return f
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

// yamlTree parses template.yaml into maps, slices and strings, with the
// short intrinsic tags turned into their long forms ({"Ref": x},
// {"Fn::GetAtt": [r, a]}, {"Fn::Sub": s}, …) as CloudFormation reads them.
// It does not resolve references, so tests can see what refers to what
// (stack evaluates them for one set of parameters). The tests read the
// template this way only: goformation, used before, rejects properties SAM
// has (AccessLogSettings, a function's LoggingConfig); the template is
// checked against AWS's SAM schema and with cfn-lint by hand (README "Deploy").
func yamlTree(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	root, ok := fromNode(doc.Content[0]).(map[string]any)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	return root
}

func fromNode(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = fromNode(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			s = append(s, fromNode(c))
		}
		v = s
	case yaml.AliasNode:
		return fromNode(n.Alias)
	default:
		v = n.Value
	}
	if tag, ok := strings.CutPrefix(n.Tag, "!"); ok && !strings.HasPrefix(tag, "!") {
		name := "Fn::" + tag
		if tag == "Ref" {
			name = "Ref"
		}
		if s, isStr := v.(string); isStr && tag == "GetAtt" {
			a, b, _ := strings.Cut(s, ".")
			v = []any{a, b}
		}
		v = map[string]any{name: v}
	}
	return v
}

// get walks a path of map keys.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9]+)?\}`)

// refs lists the logical ids and parameters v refers to (Ref, GetAtt and
// Sub), without pseudo parameters.
func refs(v any) map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "Ref":
					if s, ok := e.(string); ok && !strings.HasPrefix(s, "AWS::") {
						out[s] = true
					}
				case "Fn::GetAtt":
					if s, ok := e.([]any); ok && len(s) > 0 {
						out[s[0].(string)] = true
					}
				case "Fn::Sub":
					var s string
					switch y := e.(type) {
					case string:
						s = y
					case []any:
						s, _ = y[0].(string)
						walk(y[1:])
					}
					for _, m := range subRef.FindAllStringSubmatch(s, -1) {
						out[m[1]] = true
					}
				default:
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

func resourcesOfType(root map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range get(root, "Resources").(map[string]any) {
		if m, ok := r.(map[string]any); ok && m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

// secretGrant is a secret ARN a policy names by parameter: exactly one
// secret, with Secrets Manager's six-character suffix.
var secretGrant = regexp.MustCompile(`^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:\$\{(\w+)\}-\?\?\?\?\?\?$`)

// grants lists what a function's policies allow, as "<policy
// template>:<resource>", "<actions, comma-separated>:<resource>" or
// "secret:<parameter or secret resource>" (secretsmanager reads), for
// every branch of an !If.
func grants(t *testing.T, fnID string, policies any) []string {
	t.Helper()
	var out []string
	var secret func(r any)
	secret = func(r any) {
		if branches, ok := get(r, "Fn::If").([]any); ok && len(branches) == 3 {
			secret(branches[1])
			secret(branches[2])
			return
		}
		if ref, ok := get(r, "Ref").(string); ok {
			if ref == "AWS::NoValue" {
				return
			}
			out = append(out, "secret:"+ref) // a secret resource's Ref is its ARN
			return
		}
		sub, _ := get(r, "Fn::Sub").(string)
		m := secretGrant.FindStringSubmatch(sub)
		if m == nil {
			t.Errorf("%s: secret resource %v is neither arn:…:secret:${<name>}-?????? nor a secret's Ref", fnID, r)
			return
		}
		out = append(out, "secret:"+m[1])
	}
	var policy func(p any)
	policy = func(p any) {
		m, ok := p.(map[string]any)
		if !ok {
			t.Errorf("%s: policy %v is neither a SAM policy template nor a statement", fnID, p)
			return
		}
		for k, v := range m {
			switch k {
			case "Fn::If":
				for _, branch := range v.([]any)[1:] {
					policy(branch)
				}
			case "Ref":
				// AWS::NoValue
			case "Statement":
				for _, st := range v.([]any) {
					st := st.(map[string]any)
					var actions []string
					if list, ok := st["Action"].([]any); ok {
						for _, a := range list {
							actions = append(actions, a.(string))
						}
					} else {
						actions = []string{fmt.Sprint(st["Action"])}
					}
					slices.Sort(actions)
					resources, ok := st["Resource"].([]any)
					if !ok {
						resources = []any{st["Resource"]}
					}
					for _, r := range resources {
						if s, ok := r.(string); ok {
							t.Errorf("%s: statement resource %q is not a reference to a template resource or parameter", fnID, s)
							continue
						}
						if slices.Equal(actions, []string{"secretsmanager:GetSecretValue"}) {
							secret(r)
							continue
						}
						for ref := range refs(r) {
							out = append(out, strings.Join(actions, ",")+":"+ref)
						}
					}
				}
			default:
				for ref := range refs(v) {
					out = append(out, k+":"+ref)
				}
			}
		}
	}
	list, _ := policies.([]any)
	for _, p := range list {
		policy(p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Each function's policies grant what it uses and nothing else: the
// resources and secret parameters its environment names (its own and the
// Globals'), with the narrowest SAM policy template for its job.
func TestTemplateLeastPrivilege(t *testing.T) {
	const table = "dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query,dynamodb:UpdateItem:StateTable"
	want := map[string][]string{
		"HubSpotWebhookFunction": {"SQSSendMessagePolicy:TriggerQueue", "secret:HubSpotWebhookSecretName"},
		"SalesforceOutboundFunction": {"SQSSendMessagePolicy:TriggerQueue", "secret:SalesforceOutboundTokenSecret",
			"secret:SalesforceOutboundTokenSecretName"},
		// Polls the queue; sends what a hinted short poll finds.
		"SyncWorkerFunction": {"SQSPollerPolicy:TriggerQueue", "SQSSendMessagePolicy:TriggerQueue", table,
			"secret:HubSpotCredentialsSecretName", "secret:SalesforceCredentialsSecretName"},
		"SweepFunction": {"SQSSendMessagePolicy:TriggerQueue", table,
			"secret:HubSpotCredentialsSecretName", "secret:SalesforceCredentialsSecretName"},
		// Reads the table; writes only the settings and their audit
		// entries (a LeadingKeys condition); counts both queues; sends
		// resyncs.
		"SyncHealthFunction": {"dynamodb:GetItem,dynamodb:Query:StateTable",
			"dynamodb:PutItem:StateTable", "secret:SyncHealthTokenSecretName",
			"sqs:GetQueueAttributes:TriggerDeadLetterQueue", "sqs:GetQueueAttributes:TriggerQueue", "sqs:SendMessage:TriggerQueue"},
	}
	root := yamlTree(t)
	resources := get(root, "Resources").(map[string]any)
	params := get(root, "Parameters").(map[string]any)
	globalEnv := refs(get(root, "Globals", "Function", "Environment"))
	fns := resourcesOfType(root, "AWS::Serverless::Function")
	if len(fns) != len(want) {
		t.Errorf("template has %d functions, this test knows %d: add the new one to want", len(fns), len(want))
	}
	for id, fn := range fns {
		props := get(fn, "Properties")
		got := grants(t, id, get(props, "Policies"))
		if !slices.Equal(got, want[id]) {
			t.Errorf("%s policies grant\n  %v\nwant\n  %v", id, got, want[id])
		}
		if get(props, "Role") != nil {
			t.Errorf("%s has its own Role; use per-function Policies", id)
		}
		// What the environment names, restricted to resources and secret
		// parameters, is exactly what the policies name.
		used := map[string]bool{}
		for ref := range refs(get(props, "Environment")) {
			used[ref] = true
		}
		for ref := range globalEnv {
			used[ref] = true
		}
		var usedNames, grantedNames []string
		for ref := range used {
			_, isResource := resources[ref]
			_, isParam := params[ref]
			if isResource || isParam && strings.HasSuffix(ref, "SecretName") {
				usedNames = append(usedNames, ref)
			}
		}
		for _, g := range got {
			name := g[strings.LastIndex(g, ":")+1:]
			if !slices.Contains(grantedNames, name) {
				grantedNames = append(grantedNames, name)
			}
		}
		slices.Sort(usedNames)
		slices.Sort(grantedNames)
		if !slices.Equal(usedNames, grantedNames) {
			t.Errorf("%s: environment names %v but policies name %v", id, usedNames, grantedNames)
		}
	}
}

func TestTemplateWorkerEventSource(t *testing.T) {
	root := yamlTree(t)
	fn := resourcesOfType(root, "AWS::Serverless::Function")["SyncWorkerFunction"]
	if fn == nil {
		t.Fatal("no SyncWorkerFunction")
	}
	events, _ := get(fn, "Properties", "Events").(map[string]any)
	var sqs []map[string]any
	for _, e := range events {
		if get(e, "Type") == "SQS" {
			sqs = append(sqs, get(e, "Properties").(map[string]any))
		}
	}
	if len(sqs) != 1 || len(events) != 1 {
		t.Fatalf("worker events = %v, want one SQS event", events)
	}
	ev := sqs[0]
	if !reflect.DeepEqual(ev["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
		t.Errorf("FunctionResponseTypes = %v, want [ReportBatchItemFailures]", ev["FunctionResponseTypes"])
	}
	if !reflect.DeepEqual(ev["Queue"], map[string]any{"Fn::GetAtt": []any{"TriggerQueue", "Arn"}}) {
		t.Errorf("Queue = %v, want the TriggerQueue's ARN", ev["Queue"])
	}
	if !reflect.DeepEqual(ev["BatchSize"], map[string]any{"Ref": "WorkerBatchSize"}) ||
		!reflect.DeepEqual(get(ev, "ScalingConfig", "MaximumConcurrency"), map[string]any{"Ref": "WorkerMaximumConcurrency"}) {
		t.Errorf("BatchSize %v and MaximumConcurrency %v must be the parameters", ev["BatchSize"], get(ev, "ScalingConfig", "MaximumConcurrency"))
	}
	if max, _ := get(root, "Parameters", "WorkerBatchSize", "MaxValue").(string); max != "10" {
		t.Errorf("WorkerBatchSize MaxValue = %q, want 10 (FIFO event sources take at most 10)", max)
	}
	// The visibility check of TestTemplateTriggerQueue compares parameters;
	// make sure they are the ones in use.
	if !reflect.DeepEqual(get(fn, "Properties", "Timeout"), map[string]any{"Ref": "WorkerTimeoutSeconds"}) {
		t.Errorf("worker Timeout = %v, want !Ref WorkerTimeoutSeconds", get(fn, "Properties", "Timeout"))
	}
	q := get(root, "Resources", "TriggerQueue", "Properties", "VisibilityTimeout")
	if !reflect.DeepEqual(q, map[string]any{"Ref": "TriggerVisibilityTimeoutSeconds"}) {
		t.Errorf("queue VisibilityTimeout = %v, want !Ref TriggerVisibilityTimeoutSeconds", q)
	}
}

func TestTemplateSweepSchedule(t *testing.T) {
	root := yamlTree(t)
	fn := resourcesOfType(root, "AWS::Serverless::Function")["SweepFunction"]
	if fn == nil {
		t.Fatal("no SweepFunction")
	}
	events, _ := get(fn, "Properties", "Events").(map[string]any)
	want := map[string]string{"Schedule": "rate(15 minutes)", "ShortPoll": "rate(1 minute)"}
	if len(events) != len(want) {
		t.Fatalf("sweep events = %v, want the sweep's schedule and the short poll", events)
	}
	// The poll's events carry the detail-type functions/sweep answers
	// with a poll only (PollDetailType).
	if in, _ := get(events["ShortPoll"], "Properties", "Input", "Fn::Sub").(string); !strings.Contains(in, `"detail-type":"crmsync short poll"`) {
		t.Errorf("short poll input = %q", in)
	}
	for name, e := range events {
		if get(e, "Type") != "ScheduleV2" || get(e, "Properties", "ScheduleExpression") != want[name] {
			t.Errorf("sweep event %s = %v, want ScheduleV2 %s", name, e, want[name])
		}
		// A failed run is not retried: the next one resumes in 15 minutes.
		if get(e, "Properties", "RetryPolicy", "MaximumRetryAttempts") != "0" || get(fn, "Properties", "EventInvokeConfig", "MaximumRetryAttempts") != "0" {
			t.Error("the sweep's schedule and async invoke must not retry")
		}
	}
	if max, _ := get(root, "Parameters", "SweepTimeoutSeconds", "MaxValue").(string); max == "" || max >= "900" {
		t.Errorf("SweepTimeoutSeconds MaxValue = %q, want below 900 so runs do not overlap", max)
	}
}

// The metrics of AWS's namespaces the alarms may use.
var awsMetrics = map[string][]string{
	"AWS/SQS":    {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesNotVisible", "NumberOfMessagesSent"},
	"AWS/Lambda": {"Errors", "Throttles", "Duration", "ConcurrentExecutions", "Invocations"},
	// HTTP APIs (not REST APIs, whose metrics are 4XXError, 5XXError).
	"AWS/ApiGateway": {"4xx", "5xx", "Count", "Latency", "IntegrationLatency"},
}

// metricFilters returns the metrics the template's log metric filters
// make, by namespace/name, with the filter's resource.
func metricFilters(root map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, f := range resourcesOfType(root, "AWS::Logs::MetricFilter") {
		list, _ := get(f, "Properties", "MetricTransformations").([]any)
		for _, m := range list {
			out[fmt.Sprint(get(m, "MetricNamespace"))+"/"+fmt.Sprint(get(m, "MetricName"))] = f
		}
	}
	return out
}

// emittedDimension is the dimension each crmsync metric is emitted with
// (pkg/worker puts Category on SyncErrors and Decision on
// TriggersResolved; the others have none). An alarm on another dimension
// set would watch a metric that never gets data.
var emittedDimension = map[string]string{emf.SyncErrors: "Category", emf.TriggersResolved: "Decision"}

// Every alarm watches a metric the code emits (pkg/emf, namespace crmsync)
// or one AWS provides for a resource of this template, and notifies the
// alarm topic.
func TestTemplateAlarms(t *testing.T) {
	root := yamlTree(t)
	resources := get(root, "Resources").(map[string]any)
	alarms := resourcesOfType(root, "AWS::CloudWatch::Alarm")
	filters := metricFilters(root)
	watched := map[string]bool{}
	for id, a := range alarms {
		p := get(a, "Properties").(map[string]any)
		if !reflect.DeepEqual(p["AlarmActions"], []any{map[string]any{"Ref": "AlarmTopic"}}) {
			t.Errorf("%s: AlarmActions = %v, want [!Ref AlarmTopic]", id, p["AlarmActions"])
		}
		// A new stack has no data yet: an alarm that treats missing data
		// as breaching would fire right after creation.
		if p["TreatMissingData"] == "breaching" {
			t.Errorf("%s: TreatMissingData breaching fires on a new stack", id)
		}
		type metric struct {
			ns, name string
			dims     map[string]any
		}
		var ms []metric
		dims := func(v any) map[string]any {
			out := map[string]any{}
			list, _ := v.([]any)
			for _, d := range list {
				out[get(d, "Name").(string)] = get(d, "Value")
			}
			return out
		}
		if p["MetricName"] != nil {
			ms = append(ms, metric{fmt.Sprint(p["Namespace"]), fmt.Sprint(p["MetricName"]), dims(p["Dimensions"])})
		}
		var expressions []string
		metricIDs := map[string]bool{}
		list, _ := p["Metrics"].([]any)
		for _, q := range list {
			if e, ok := get(q, "Expression").(string); ok {
				expressions = append(expressions, e)
				metricIDs[fmt.Sprint(get(q, "Id"))] = false
				continue
			}
			metricIDs[fmt.Sprint(get(q, "Id"))] = true
			m := get(q, "MetricStat", "Metric")
			ms = append(ms, metric{fmt.Sprint(get(m, "Namespace")), fmt.Sprint(get(m, "MetricName")), dims(get(m, "Dimensions"))})
		}
		// Metric math: lower-case words are metric ids (functions are
		// upper case); every metric is used by an expression.
		used := map[string]bool{}
		for _, e := range expressions {
			for _, w := range regexp.MustCompile(`\b[a-z][a-z0-9_]*\b`).FindAllString(e, -1) {
				if _, ok := metricIDs[w]; !ok {
					t.Errorf("%s: expression %q names %q, which is no metric of the alarm", id, e, w)
				}
				used[w] = true
			}
		}
		for mid, isMetric := range metricIDs {
			if isMetric && !used[mid] {
				t.Errorf("%s: metric %s is in no expression", id, mid)
			}
		}
		if len(ms) == 0 {
			t.Errorf("%s watches no metric", id)
		}
		var categories []string
		for _, m := range ms {
			watched[m.name] = true
			switch m.ns {
			case emf.Namespace:
				if filters[m.ns+"/"+m.name] != nil {
					if len(m.dims) != 0 {
						t.Errorf("%s: %s is made by a metric filter without dimensions, but the alarm has %v", id, m.name, m.dims)
					}
					continue
				}
				if !slices.Contains(emf.Names, m.name) {
					t.Errorf("%s: %s/%s is not a metric crmsync emits (pkg/emf.Names)", id, m.ns, m.name)
				}
				want := emittedDimension[m.name]
				for k := range m.dims {
					if k != want {
						t.Errorf("%s: %s has dimension %s, but it is emitted with %q only", id, m.name, k, want)
					}
				}
				if want != "" && len(m.dims) != 1 {
					t.Errorf("%s: %s is emitted with dimension %s; an alarm without it gets no data", id, m.name, want)
				}
				if m.name == emf.SyncErrors {
					categories = append(categories, fmt.Sprint(m.dims["Category"]))
				}
			case "AWS/SQS", "AWS/Lambda", "AWS/ApiGateway":
				if !slices.Contains(awsMetrics[m.ns], m.name) {
					t.Errorf("%s: %s/%s is not a metric this test knows AWS provides", id, m.ns, m.name)
				}
				for k, v := range m.dims {
					r := refs(v)
					if len(r) != 1 {
						t.Errorf("%s: dimension %s = %v does not name one resource", id, k, v)
					}
					for ref := range r {
						typ := get(resources[ref], "Type")
						if k == "QueueName" && typ != "AWS::SQS::Queue" || k == "FunctionName" && typ != "AWS::Serverless::Function" ||
							k == "ApiId" && typ != "AWS::Serverless::HttpApi" {
							t.Errorf("%s: dimension %s names %s (%v)", id, k, ref, typ)
						}
					}
				}
			default:
				t.Errorf("%s: namespace %q is neither crmsync nor AWS/SQS, AWS/Lambda or AWS/ApiGateway", id, m.ns)
			}
		}
		if len(categories) > 0 {
			var want []string
			for _, c := range crmsync.Categories {
				want = append(want, string(c))
			}
			slices.Sort(categories)
			slices.Sort(want)
			if !slices.Equal(categories, want) {
				t.Errorf("%s sums SyncErrors of categories %v, want every crmsync.Categories %v", id, categories, want)
			}
		}
	}
	for _, name := range []string{"ApproximateNumberOfMessagesVisible", "Errors", "Throttles", "ApproximateAgeOfOldestMessage",
		emf.SyncErrors, emf.SalesforceAPIUsagePercent, emf.SweepLagSeconds, emf.SweepBehindDeletedWindow,
		emf.PoisonMessages, emf.TransientFailures, emf.SweepEnqueued, "5xx", "Invocations"} {
		if !watched[name] {
			t.Errorf("no alarm watches %s", name)
		}
	}
	if get(resources, "AlarmTopic", "Type") != "AWS::SNS::Topic" || get(root, "Parameters", "AlarmEmail") == nil {
		t.Error("want an SNS AlarmTopic with an AlarmEmail subscription parameter")
	}
	outputs := get(root, "Outputs").(map[string]any)
	for _, o := range []string{"HubSpotWebhookURL", "SalesforceOutboundURL", "StateTableName", "TriggerQueueURL", "TriggerDeadLetterQueueURL",
		"TriggerDeadLetterQueueARN", "ReceiverApiId", "SalesforceOutboundTokenSecretId", "AlarmTopicARN"} {
		if outputs[o] == nil {
			t.Errorf("no output %s", o)
		}
	}
}

// samconfigOverrides returns each samconfig.toml environment's deploy
// parameter_overrides.
func samconfigOverrides(t *testing.T) map[string]map[string]string {
	t.Helper()
	b, err := os.ReadFile("samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	section := ""
	pair := regexp.MustCompile(`(\w+)=\\"([^"\\]*)\\"`)
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			continue
		}
		if v, ok := strings.CutPrefix(line, "parameter_overrides"); ok && strings.HasSuffix(section, ".deploy.parameters") {
			env := strings.TrimSuffix(section, ".deploy.parameters")
			out[env] = map[string]string{}
			for _, m := range pair.FindAllStringSubmatch(v, -1) {
				out[env][m[1]] = m[2]
			}
		}
	}
	return out
}

// Every samconfig environment keeps the queue's visibility timeout at least
// six times the worker's timeout, and overrides only parameters that exist.
func TestSamconfigOverrides(t *testing.T) {
	root := yamlTree(t)
	envs := samconfigOverrides(t)
	for _, env := range []string{"default", "dev", "prod"} {
		o, ok := envs[env]
		if !ok {
			t.Errorf("samconfig.toml has no [%s.deploy.parameters] parameter_overrides", env)
			continue
		}
		for k := range o {
			if get(root, "Parameters", k) == nil {
				t.Errorf("[%s] overrides %s, which template.yaml does not declare", env, k)
			}
		}
		num := func(name string) float64 {
			if v, ok := o[name]; ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("[%s] %s=%q", env, name, v)
				}
				return f
			}
			return paramDefault(t, root, name)
		}
		if w, v := num("WorkerTimeoutSeconds"), num("TriggerVisibilityTimeoutSeconds"); v < 6*w {
			t.Errorf("[%s] visibility timeout %v < 6 x worker timeout %v", env, v, w)
		}
	}
}

// Every function's build target, run as sam build runs it, produces a
// static linux/arm64 executable named bootstrap.
func TestBuildTargetsProduceBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function; skipped with -short")
	}
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	for id := range resourcesOfType(yamlTree(t), "AWS::Serverless::Function") {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := exec.Command(mk, "-s", "build-"+id, "ARTIFACTS_DIR="+dir)
			cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", id, err, out)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != "bootstrap" {
				t.Fatalf("artifacts = %v, want only bootstrap", entries)
			}
			f, err := elf.Open(filepath.Join(dir, "bootstrap"))
			if err != nil {
				t.Fatalf("bootstrap is not an ELF executable: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
				t.Errorf("bootstrap is %v %v, want an arm64 executable", f.Machine, f.Type)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("bootstrap is dynamically linked (CGO_ENABLED=0 expected)")
				}
			}
			if info, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil {
				t.Logf("%s bootstrap: %d bytes", id, info.Size())
				if info.Mode()&0o111 == 0 {
					t.Error("bootstrap is not executable")
				}
			}
		})
	}
}

// crmsync's metrics are EMF log lines without a "level" key, which Lambda's
// JSON log format files as INFO: an application log level above INFO would
// drop them all.
func TestTemplateLogLevelKeepsMetrics(t *testing.T) {
	root := yamlTree(t)
	if get(root, "Globals", "Function", "LoggingConfig", "LogFormat") != "JSON" {
		t.Fatal("Globals LoggingConfig.LogFormat is not JSON")
	}
	if !reflect.DeepEqual(get(root, "Globals", "Function", "LoggingConfig", "ApplicationLogLevel"), map[string]any{"Ref": "LogLevel"}) {
		t.Fatal("ApplicationLogLevel is not the LogLevel parameter")
	}
	levels, _ := get(root, "Parameters", "LogLevel", "AllowedValues").([]any)
	if len(levels) == 0 {
		t.Fatal("LogLevel has no AllowedValues")
	}
	for _, l := range levels {
		if l != "TRACE" && l != "DEBUG" && l != "INFO" {
			t.Errorf("LogLevel allows %v, which filters out the EMF metric lines", l)
		}
	}
	for env, o := range samconfigOverrides(t) {
		if l, ok := o["LogLevel"]; ok && l != "DEBUG" && l != "INFO" {
			t.Errorf("[%s] LogLevel=%s filters out the EMF metric lines", env, l)
		}
	}
}

// stack evaluates the template's intrinsic functions for one set of
// parameter values, as CloudFormation would for a stack in account
// 123456789012, eu-west-1.
type stack struct {
	t      *testing.T
	root   map[string]any
	params map[string]string
}

const testStackID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/crmsync-test/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

// newStack fills parameters from values, else their defaults; a
// parameter with neither fails the test (CloudFormation would refuse).
func newStack(t *testing.T, root map[string]any, values map[string]string) *stack {
	t.Helper()
	s := &stack{t: t, root: root, params: map[string]string{}}
	for name, p := range get(root, "Parameters").(map[string]any) {
		if v, ok := values[name]; ok {
			s.params[name] = v
		} else if d, ok := get(p, "Default").(string); ok {
			s.params[name] = d
		} else {
			t.Fatalf("parameter %s has no value and no default", name)
		}
	}
	return s
}

// subVar is a ${…} of Fn::Sub, pseudo parameters included.
var subVar = regexp.MustCompile(`\$\{[A-Za-z0-9:.]+\}`)

// noValue is what AWS::NoValue evaluates to.
var noValue = &struct{}{}

func (s *stack) eval(v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return v
	}
	for k, arg := range m {
		switch k {
		case "Ref":
			return s.ref(arg.(string))
		case "Fn::Sub":
			str, vars := arg, map[string]any{}
			if list, ok := arg.([]any); ok {
				str, vars = list[0], list[1].(map[string]any)
			}
			return subVar.ReplaceAllStringFunc(str.(string), func(ref string) string {
				name := ref[2 : len(ref)-1]
				if v, ok := vars[name]; ok {
					return fmt.Sprint(s.eval(v))
				}
				return fmt.Sprint(s.ref(name))
			})
		case "Fn::If":
			list := arg.([]any)
			if s.condition(list[0].(string)) {
				return s.eval(list[1])
			}
			return s.eval(list[2])
		case "Fn::Select":
			list := arg.([]any)
			i, _ := strconv.Atoi(fmt.Sprint(s.eval(list[0])))
			return s.eval(list[1]).([]string)[i]
		case "Fn::Split":
			list := arg.([]any)
			return strings.Split(fmt.Sprint(s.eval(list[1])), list[0].(string))
		}
	}
	return v
}

func (s *stack) ref(name string) any {
	switch name {
	case "AWS::NoValue":
		return noValue
	case "AWS::Partition":
		return "aws"
	case "AWS::Region":
		return "eu-west-1"
	case "AWS::AccountId":
		return "123456789012"
	case "AWS::StackId":
		return testStackID
	}
	if v, ok := s.params[name]; ok {
		return v
	}
	r, ok := get(s.root, "Resources", name).(map[string]any)
	if !ok {
		s.t.Fatalf("!Ref %s: no such parameter or resource", name)
	}
	if c, ok := r["Condition"].(string); ok && !s.condition(c) {
		s.t.Fatalf("!Ref %s: the resource's condition %s is false here", name, c)
	}
	if r["Type"] == "AWS::SecretsManager::Secret" {
		return secretARN(fmt.Sprint(s.eval(get(r, "Properties", "Name"))))
	}
	return "physical-id-of-" + name
}

func (s *stack) condition(name string) bool {
	c := get(s.root, "Conditions", name)
	if c == nil {
		s.t.Fatalf("no condition %s", name)
	}
	return s.truth(c)
}

func (s *stack) truth(v any) bool {
	for k, arg := range v.(map[string]any) {
		list, _ := arg.([]any)
		switch k {
		case "Fn::Equals":
			return fmt.Sprint(s.eval(list[0])) == fmt.Sprint(s.eval(list[1]))
		case "Fn::Not":
			return !s.truth(list[0])
		case "Fn::And", "Fn::Or":
			and := k == "Fn::And"
			for _, c := range list {
				if s.truth(c) != and {
					return !and
				}
			}
			return and
		case "Fn::Condition", "Condition":
			return s.condition(arg.(string))
		}
	}
	s.t.Fatalf("condition %v is not one this test evaluates", v)
	return false
}

// secretARN is the ARN Secrets Manager gives a secret named name: the
// name, a hyphen and six random characters (a fixed sample here).
func secretARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + name + "-Ab3dE9"
}

// iamMatch reports whether an IAM resource pattern (* any run of
// characters, ? one character) matches arn.
func iamMatch(pattern, arn string) bool {
	re := regexp.QuoteMeta(pattern)
	re = strings.ReplaceAll(re, `\*`, ".*")
	re = strings.ReplaceAll(re, `\?`, ".")
	return regexp.MustCompile("^" + re + "$").MatchString(arn)
}

// functionSecrets returns, per function, the secrets its environment names
// (variables ending _SECRET_ID, as ARNs) and the resources its
// GetSecretValue statements grant, in stack s.
func functionSecrets(s *stack) (named, granted map[string][]string) {
	named, granted = map[string][]string{}, map[string][]string{}
	for id, fn := range resourcesOfType(s.root, "AWS::Serverless::Function") {
		vars, _ := get(fn, "Properties", "Environment", "Variables").(map[string]any)
		for k, v := range vars {
			if val := s.eval(v); strings.HasSuffix(k, "_SECRET_ID") && val != "" && val != noValue {
				named[id] = append(named[id], secretARN(fmt.Sprint(val)))
			}
		}
		statements := func(p any) {
			p = s.eval(p)
			list, _ := get(p, "Statement").([]any)
			for _, st := range list {
				if fmt.Sprint(get(st, "Action")) != "secretsmanager:GetSecretValue" {
					continue
				}
				resources, ok := get(st, "Resource").([]any)
				if !ok {
					resources = []any{get(st, "Resource")}
				}
				for _, r := range resources {
					if v := s.eval(r); v != noValue {
						granted[id] = append(granted[id], fmt.Sprint(v))
					}
				}
			}
		}
		policies, _ := get(fn, "Properties", "Policies").([]any)
		for _, p := range policies {
			statements(p)
		}
	}
	return named, granted
}

// No function can read another function's secret, and each can read its
// own: for the parameters of every samconfig profile, and for the ways of
// giving the Salesforce endpoint token (generated, named, none). The
// profiles' names are the ones that overlapped under the old "<name>-*"
// grants (crmsync/prod/hubspot-* matched crmsync/prod/hubspot-webhook-…).
func TestTemplateSecretsReadOnlyByTheirFunction(t *testing.T) {
	root := yamlTree(t)
	cases := map[string]map[string]string{}
	for env, overrides := range samconfigOverrides(t) {
		values := maps.Clone(overrides)
		if values["SalesforceOrgId"] == "" {
			values["SalesforceOrgId"] = "00D5e000000AbCdEAK"
		}
		cases["["+env+"]"] = values
		named := maps.Clone(values)
		named["SalesforceOutboundTokenSecretName"] = "crmsync/" + values["StageName"] + "/salesforce-outbound-token"
		cases["["+env+"] with a named token secret"] = named
		// A token secret whose name is another secret's plus a suffix.
		prefixed := maps.Clone(values)
		prefixed["SalesforceOutboundTokenSecretName"] = values["SalesforceCredentialsSecretName"] + "-outbound"
		cases["["+env+"] with a token secret named like the credentials"] = prefixed
		insecure := maps.Clone(values)
		insecure["SalesforceOutboundInsecure"] = "true"
		cases["["+env+"] insecure"] = insecure
	}
	for name, values := range cases {
		t.Run(name, func(t *testing.T) {
			s := newStack(t, root, values)
			named, granted := functionSecrets(s)
			for fn, own := range named {
				for _, arn := range own {
					if !slices.ContainsFunc(granted[fn], func(g string) bool { return iamMatch(g, arn) }) {
						t.Errorf("%s cannot read its own secret %s (grants %v)", fn, arn, granted[fn])
					}
				}
			}
			for fn, grants := range granted {
				for _, g := range grants {
					if strings.Contains(g, "*") {
						t.Errorf("%s: grant %s has a wildcard run; name exactly one secret", fn, g)
					}
					for other, secrets := range named {
						for _, arn := range secrets {
							if iamMatch(g, arn) && !slices.Contains(named[fn], arn) {
								t.Errorf("%s can read %s's secret %s through %s", fn, other, arn, g)
							}
						}
					}
				}
			}
			token := named["SalesforceOutboundFunction"]
			switch {
			case values["SalesforceOutboundInsecure"] == "true" && values["SalesforceOutboundTokenSecretName"] == "":
				if len(token) != 0 || len(granted["SalesforceOutboundFunction"]) != 0 {
					t.Errorf("insecure without a token secret: the receiver names %v and may read %v", token, granted["SalesforceOutboundFunction"])
				}
			case len(token) != 1:
				t.Errorf("the Salesforce receiver names token secrets %v, want one", token)
			}
		})
	}
}

// The old grants fail the check above: a "-*" grant for crmsync/prod/hubspot
// matches the webhook secret's ARN, a "-??????" grant does not.
func TestIAMMatch(t *testing.T) {
	webhook := secretARN("crmsync/prod/hubspot-webhook")
	for pattern, want := range map[string]bool{
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmsync/prod/hubspot-*":              true,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmsync/prod/hubspot-??????":         false,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmsync/prod/hubspot-webhook-??????": true,
		"arn:aws:secretsmanager:eu-west-1:123456789012:secret:crmsync/prod/hubspot-webhook-?????":  false,
	} {
		if got := iamMatch(pattern, webhook); got != want {
			t.Errorf("iamMatch(%s, %s) = %v, want %v", pattern, webhook, got, want)
		}
	}
}

// Every function writes to a log group of the template with the
// LogRetentionDays retention: the group Lambda would otherwise create
// itself, without retention (/aws/lambda/<function name>), created before
// the function. So does the API's access log.
func TestTemplateLogRetention(t *testing.T) {
	root := yamlTree(t)
	retention := map[string]any{"Ref": "LogRetentionDays"}
	groups := resourcesOfType(root, "AWS::Logs::LogGroup")
	byName := map[string]string{}
	for id, g := range groups {
		if !reflect.DeepEqual(get(g, "Properties", "RetentionInDays"), retention) {
			t.Errorf("log group %s: RetentionInDays = %v, want !Ref LogRetentionDays", id, get(g, "Properties", "RetentionInDays"))
		}
		name, _ := get(g, "Properties", "LogGroupName", "Fn::Sub").(string)
		byName[name] = id
	}
	for id, fn := range resourcesOfType(root, "AWS::Serverless::Function") {
		name, _ := get(fn, "Properties", "FunctionName", "Fn::Sub").(string)
		if !strings.HasPrefix(name, "crmsync-${StageName}-") {
			t.Errorf("%s: FunctionName = %v, want !Sub crmsync-${StageName}-<function>", id, get(fn, "Properties", "FunctionName"))
			continue
		}
		group, ok := byName["/aws/lambda/"+name]
		if !ok {
			t.Errorf("%s: no log group /aws/lambda/%s with retention", id, name)
			continue
		}
		if dependsOn := fmt.Sprint(get(fn, "DependsOn")); !strings.Contains(dependsOn, group) {
			t.Errorf("%s: DependsOn %s, want its log group %s (else Lambda may create the group first)", id, dependsOn, group)
		}
	}
	if dest := get(root, "Resources", "ReceiverApi", "Properties", "AccessLogSettings", "DestinationArn", "Fn::GetAtt"); dest == nil || groups[fmt.Sprint(dest.([]any)[0])] == nil {
		t.Errorf("the API's access log goes to %v, not a log group of the template", dest)
	}
	if !slices.Contains(get(root, "Parameters", "LogRetentionDays", "AllowedValues").([]any), any("30")) {
		t.Error("LogRetentionDays does not allow 30")
	}
}

// httpAPIRoutes returns each function's HttpApi routes ("POST /path").
func httpAPIRoutes(root map[string]any) map[string][]string {
	out := map[string][]string{}
	for id, fn := range resourcesOfType(root, "AWS::Serverless::Function") {
		events, _ := get(fn, "Properties", "Events").(map[string]any)
		for _, e := range events {
			if get(e, "Type") == "HttpApi" {
				out[id] = append(out[id], fmt.Sprint(get(e, "Properties", "Method"))+" "+fmt.Sprint(get(e, "Properties", "Path")))
			}
		}
		slices.Sort(out[id])
	}
	return out
}

// The receivers cannot be flooded into starving the worker or running up
// unbounded cost: the API throttles (parameters), every function behind it
// has reserved (and so capped) concurrency, and the access log records the
// route, never the path (the Salesforce path carries the endpoint token).
func TestTemplateReceiversThrottled(t *testing.T) {
	root := yamlTree(t)
	api := get(root, "Resources", "ReceiverApi", "Properties")
	for k, param := range map[string]string{"ThrottlingRateLimit": "ApiThrottlingRateLimit", "ThrottlingBurstLimit": "ApiThrottlingBurstLimit"} {
		if !reflect.DeepEqual(get(api, "DefaultRouteSettings", k), map[string]any{"Ref": param}) {
			t.Errorf("ReceiverApi DefaultRouteSettings.%s = %v, want !Ref %s", k, get(api, "DefaultRouteSettings", k), param)
		}
	}
	format := fmt.Sprint(get(api, "AccessLogSettings", "Format"))
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Errorf("access log format is not a JSON object: %v", err)
	}
	if fields["routeKey"] != "$context.routeKey" || fields["status"] != "$context.status" {
		t.Errorf("access log format %s lacks routeKey or status (the 401 metric filters read them)", format)
	}
	for _, leak := range []string{"$context.path", "$context.rawPath", "pathParameters", "$context.authorizer"} {
		if strings.Contains(format, leak) {
			t.Errorf("access log format logs %s, which can carry the endpoint token", leak)
		}
	}
	routes := httpAPIRoutes(root)
	if len(routes) == 0 {
		t.Fatal("no function has an HttpApi event")
	}
	want := map[string]any{"Fn::If": []any{"HasReceiverReservedConcurrency", map[string]any{"Ref": "ReceiverReservedConcurrency"}, map[string]any{"Ref": "AWS::NoValue"}}}
	for id := range routes {
		fn := get(root, "Resources", id, "Properties")
		if !reflect.DeepEqual(get(fn, "ReservedConcurrentExecutions"), want) {
			t.Errorf("%s: ReservedConcurrentExecutions = %v, want the ReceiverReservedConcurrency parameter", id, get(fn, "ReservedConcurrentExecutions"))
		}
	}
	if d := paramDefault(t, root, "ReceiverReservedConcurrency"); d < 1 {
		t.Errorf("ReceiverReservedConcurrency defaults to %v: receivers are not capped by default", d)
	}
}

// Every function behind the API has alarms on its errors and throttles, a
// 401 count from the access log (its routes exactly) with an alarm, and a
// silence alarm (no invocations while the sweep finds work); the API has a
// 5xx alarm; the sweep-lag alarm notifies when the sweep goes silent.
func TestTemplateReceiverAlarms(t *testing.T) {
	root := yamlTree(t)
	alarms := resourcesOfType(root, "AWS::CloudWatch::Alarm")
	// watches lists each alarm's watched metrics as "namespace/name/dimension value".
	watches := map[string][]string{}
	for id, a := range alarms {
		p := get(a, "Properties")
		add := func(m any) {
			dims, _ := get(m, "Dimensions").([]any)
			key := fmt.Sprint(get(m, "Namespace")) + "/" + fmt.Sprint(get(m, "MetricName"))
			for _, d := range dims {
				for ref := range refs(get(d, "Value")) {
					key += "/" + ref
				}
			}
			watches[id] = append(watches[id], key)
		}
		if get(p, "MetricName") != nil {
			add(p)
		}
		list, _ := get(p, "Metrics").([]any)
		for _, q := range list {
			if m := get(q, "MetricStat", "Metric"); m != nil {
				add(m)
			}
		}
	}
	has := func(keys ...string) bool {
		for _, w := range watches {
			if len(w) == len(keys) && !slices.ContainsFunc(keys, func(k string) bool { return !slices.Contains(w, k) }) {
				return true
			}
		}
		return false
	}
	filters := metricFilters(root)
	for id, routes := range httpAPIRoutes(root) {
		for _, m := range []string{"Errors", "Throttles"} {
			if !has("AWS/Lambda/" + m + "/" + id) {
				t.Errorf("%s: no alarm on its %s alone", id, m)
			}
		}
		if !has("AWS/Lambda/Invocations/"+id, "crmsync/"+emf.SweepEnqueued) {
			t.Errorf("%s: no alarm on its invocations against the sweep's %s", id, emf.SweepEnqueued)
		}
		metric := "crmsync/" + strings.TrimSuffix(id, "Function") + "Unauthorized"
		f := filters[metric]
		if f == nil {
			t.Errorf("%s: no metric filter makes %s", id, metric)
			continue
		}
		if !reflect.DeepEqual(get(f, "Properties", "LogGroupName"), map[string]any{"Ref": "ReceiverApiAccessLogGroup"}) {
			t.Errorf("%s: the metric filter reads %v, not the API's access log", metric, get(f, "Properties", "LogGroupName"))
		}
		pattern := fmt.Sprint(get(f, "Properties", "FilterPattern"))
		var named []string
		for _, m := range regexp.MustCompile(`\$\.routeKey = "([^"]+)"`).FindAllStringSubmatch(pattern, -1) {
			named = append(named, m[1])
		}
		slices.Sort(named)
		if !strings.Contains(pattern, `$.status = "401"`) || !slices.Equal(named, routes) {
			t.Errorf("%s: filter %s, want status 401 on exactly the routes %v", metric, pattern, routes)
		}
		if !has(metric) {
			t.Errorf("%s: no alarm on %s", id, metric)
		}
	}
	if !has("AWS/ApiGateway/5xx/ReceiverApi") {
		t.Error("no alarm on the receivers' API 5xx")
	}
	lag := get(root, "Resources", "SweepLagAlarm", "Properties")
	if !reflect.DeepEqual(get(lag, "InsufficientDataActions"), []any{map[string]any{"Ref": "AlarmTopic"}}) || get(lag, "TreatMissingData") != "missing" {
		t.Error("SweepLagAlarm must treat missing data as missing and notify on INSUFFICIENT_DATA (a silent sweep)")
	}
}

// The table actions granted are exactly the DynamoDB operations
// pkg/ddbstore performs: its client calls, and for TransactWriteItems the
// actions of the item kinds it puts in transactions.
func TestTemplateTableActionsMatchDDBStore(t *testing.T) {
	files, err := filepath.Glob("pkg/ddbstore/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("pkg/ddbstore: %v", err)
	}
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.client\.(\w+)\(`).FindAllStringSubmatch(string(b), -1) {
			if m[1] == "TransactWriteItems" {
				continue // needs the actions of its items, below
			}
			used["dynamodb:"+m[1]] = true
		}
		for _, m := range regexp.MustCompile(`types\.TransactWriteItem\{(Put|Update|Delete|ConditionCheck):`).FindAllStringSubmatch(string(b), -1) {
			used["dynamodb:"+m[1]+"Item"] = true
		}
	}
	var want []string
	for a := range used {
		want = append(want, a)
	}
	slices.Sort(want)
	if len(want) == 0 {
		t.Fatal("found no DynamoDB calls in pkg/ddbstore")
	}
	root := yamlTree(t)
	for id, fn := range resourcesOfType(root, "AWS::Serverless::Function") {
		policies, _ := get(fn, "Properties", "Policies").([]any)
		for _, p := range policies {
			for name := range p.(map[string]any) {
				if strings.HasPrefix(name, "DynamoDB") {
					t.Errorf("%s uses the SAM policy template %s, which grants more than pkg/ddbstore calls", id, name)
				}
			}
			list, _ := get(p, "Statement").([]any)
			for _, st := range list {
				actions, _ := get(st, "Action").([]any)
				if !refs(get(st, "Resource"))["StateTable"] {
					continue
				}
				var got []string
				for _, a := range actions {
					got = append(got, a.(string))
				}
				slices.Sort(got)
				if id == "SyncHealthFunction" {
					// The health pages read, and write only the settings
					// (the allocation) and its audit entry (a condition on
					// the leading keys): a subset of what ddbstore calls.
					for _, a := range got {
						if !slices.Contains(want, a) {
							t.Errorf("%s: table action %s is not one pkg/ddbstore calls", id, a)
						}
					}
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: table actions %v, want what pkg/ddbstore calls: %v", id, got, want)
				}
			}
		}
	}
}

// The environment variables the functions read (functions/<name>/main.go
// and, for the worker and the sweep, pkg/crmclients) are set by the
// template, so every tunable the runbook mentions is a parameter; a few
// are meant for tests and local runs only.
func TestTemplateSetsEveryVariableTheFunctionsRead(t *testing.T) {
	localOnly := map[string]string{
		"HUBSPOT_BASE_URL":             "points the client at a simulator",
		"SALESFORCE_INSTANCE_URL":      "points the client at a simulator",
		"HUBSPOT_SIGNATURE_VERSIONS":   "v3 only in production; v1/v2 for apps that cannot send v3",
		"HUBSPOT_WEBHOOK_MAX_BODY":     "the default fits HubSpot's 100 events",
		"SALESFORCE_OUTBOUND_MAX_BODY": "the default fits Salesforce's 100 notifications",
	}
	root := yamlTree(t)
	targets := makeTargets(t)
	read := regexp.MustCompile(`\("([A-Z][A-Z0-9]*_[A-Z0-9_]+)"`) // getenv("X"), get("X"), duration("X", …)
	crmclients, err := os.ReadFile("pkg/crmclients/crmclients.go")
	if err != nil {
		t.Fatal(err)
	}
	globals, _ := get(root, "Globals", "Function", "Environment", "Variables").(map[string]any)
	for id, fn := range resourcesOfType(root, "AWS::Serverless::Function") {
		m := recipeFunction.FindStringSubmatch(targets[id])
		if m == nil {
			continue // TestTemplateFunctionsHaveBuildTargetsAndFolders reports it
		}
		src, err := os.ReadFile(filepath.Join("functions", m[1], "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "crmclients.LoadConfig") {
			src = append(src, crmclients...)
		}
		vars, _ := get(fn, "Properties", "Environment", "Variables").(map[string]any)
		for _, v := range read.FindAllStringSubmatch(string(src), -1) {
			_, own := vars[v[1]]
			_, global := globals[v[1]]
			if !own && !global && localOnly[v[1]] == "" {
				t.Errorf("%s reads %s, which the template does not set (make it a parameter)", id, v[1])
			}
		}
	}
}

// Every secret-name parameter has the same name pattern (the optional
// one also allows empty).
func TestTemplateSecretParametersSamePattern(t *testing.T) {
	root := yamlTree(t)
	const pattern = "^[A-Za-z0-9/_+=.@-]+$"
	n := 0
	for name, p := range get(root, "Parameters").(map[string]any) {
		if !strings.HasSuffix(name, "SecretName") {
			continue
		}
		n++
		want := pattern
		if get(p, "Default") == "" {
			want = strings.Replace(pattern, "+$", "*$", 1)
		}
		if got := get(p, "AllowedPattern"); got != want {
			t.Errorf("%s: AllowedPattern %v, want %s", name, got, want)
		}
	}
	if n < 4 {
		t.Errorf("found %d secret-name parameters, want the 4", n)
	}
}

// The routes of the template are the ones the sample events, the
// functions' package comments and the local stack's comments use.
func TestTemplateRoutesMatchEventsAndComments(t *testing.T) {
	root := yamlTree(t)
	targets := makeTargets(t)
	for id, routes := range httpAPIRoutes(root) {
		m := recipeFunction.FindStringSubmatch(targets[id])
		if m == nil {
			continue
		}
		files, _ := filepath.Glob(filepath.Join("events", m[1]+"-*.json"))
		seen := map[string]bool{}
		for _, f := range files {
			var ev struct {
				RouteKey string `json:"routeKey"`
			}
			b, err := os.ReadFile(f)
			if err != nil || json.Unmarshal(b, &ev) != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if ev.RouteKey == "$default" {
				continue // a Lambda Function URL sample
			}
			if !slices.Contains(routes, ev.RouteKey) {
				t.Errorf("%s: routeKey %q is not a route of %s %v", f, ev.RouteKey, id, routes)
			}
			seen[ev.RouteKey] = true
		}
		src, err := os.ReadFile(filepath.Join("functions", m[1], "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			if !seen[r] {
				t.Errorf("no events/%s-*.json sample on route %s", m[1], r)
			}
			if !strings.Contains(string(src), r) {
				t.Errorf("functions/%s/main.go does not name its route %s", m[1], r)
			}
		}
	}
}

// Every samconfig profile can deploy a new stack as the README's Deploy
// section describes: each parameter without a default is set by the
// profile, or is one the section tells you to add to the profile.
func TestSamconfigProfilesDeployable(t *testing.T) {
	root := yamlTree(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	deploy, _, _ := strings.Cut(string(readme)[strings.Index(string(readme), "\n## Deploy"):], "\n## Test")
	for env, o := range samconfigOverrides(t) {
		for name, p := range get(root, "Parameters").(map[string]any) {
			if get(p, "Default") != nil {
				continue
			}
			if _, ok := o[name]; ok {
				continue
			}
			if !strings.Contains(deploy, name+`=\"`) {
				t.Errorf("[%s] does not set %s (no default) and README's Deploy section does not say to add %s=\\\"…\\\" to it", env, name, name)
			}
		}
	}
}

// The receivers' cold start does not pay for the SDK's shared-config
// loader and its SSO, STS and sign-in credential providers (package
// initialisation that never serves a Lambda; see secrets.EnvConfig).
func TestReceiversLinkNoSDKConfigLoader(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not installed")
	}
	targets := makeTargets(t)
	for id := range httpAPIRoutes(yamlTree(t)) {
		m := recipeFunction.FindStringSubmatch(targets[id])
		if m == nil {
			continue
		}
		out, err := exec.Command(goTool, "list", "-deps", "./functions/"+m[1]).Output()
		if err != nil {
			t.Fatalf("go list -deps ./functions/%s: %v", m[1], err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "github.com/aws/aws-sdk-go-v2/config" || strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/sso") ||
				strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/service/sts") {
				t.Errorf("%s (functions/%s) links %s", id, m[1], pkg)
			}
		}
	}
}
