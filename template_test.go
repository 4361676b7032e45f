// Tests of the deployment files at the repository root: template.yaml,
// the Makefile's SAM build targets, functions/ and events/.
package crmsync_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"gopkg.in/yaml.v3"

	"github.com/crmsync/crmsync/pkg/crmsync"
	"github.com/crmsync/crmsync/pkg/emf"
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

// yamlTree parses template.yaml into maps, slices and strings, with the
// short intrinsic tags turned into their long forms ({"Ref": x},
// {"Fn::GetAtt": [r, a]}, {"Fn::Sub": s}, …) as CloudFormation reads them.
// Unlike goformation it does not resolve references, so tests can see
// what refers to what.
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

// grants lists what a function's policies allow, as "<policy
// template>:<resource>" or "secret:<parameter>" (secretsmanager reads), for
// both branches of an !If.
func grants(t *testing.T, fnID string, policies any) []string {
	t.Helper()
	var out []string
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
					actions := fmt.Sprint(st["Action"])
					resources, ok := st["Resource"].([]any)
					if !ok {
						resources = []any{st["Resource"]}
					}
					for _, r := range resources {
						if s, ok := r.(string); ok {
							t.Errorf("%s: statement resource %q is not a reference to a template resource or parameter", fnID, s)
							continue
						}
						sub, _ := get(r, "Fn::Sub").(string)
						if actions == "secretsmanager:GetSecretValue" {
							m := regexp.MustCompile(`^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:\$\{(\w+)\}-(\*|\?{6})$`).FindStringSubmatch(sub)
							if m == nil {
								t.Errorf("%s: secret resource %q is not arn:…:secret:${<name>}-* (or -??????)", fnID, sub)
								continue
							}
							out = append(out, "secret:"+m[1])
							continue
						}
						for ref := range refs(r) {
							out = append(out, actions+":"+ref)
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
	return out
}

// Each function's policies grant what it uses and nothing else: the
// resources and secret parameters its environment names (its own and the
// Globals'), with the narrowest SAM policy template for its job.
func TestTemplateLeastPrivilege(t *testing.T) {
	want := map[string][]string{
		"HubSpotWebhookFunction":     {"SQSSendMessagePolicy:TriggerQueue", "secret:HubSpotWebhookSecretName"},
		"SalesforceOutboundFunction": {"SQSSendMessagePolicy:TriggerQueue", "secret:SalesforceOutboundTokenSecretName"},
		"SyncWorkerFunction": {"DynamoDBCrudPolicy:StateTable", "SQSPollerPolicy:TriggerQueue",
			"secret:HubSpotCredentialsSecretName", "secret:SalesforceCredentialsSecretName"},
		"SweepFunction": {"DynamoDBCrudPolicy:StateTable", "SQSSendMessagePolicy:TriggerQueue",
			"secret:HubSpotCredentialsSecretName", "secret:SalesforceCredentialsSecretName"},
		// Reads the table; writes only the settings and their audit
		// entries (a LeadingKeys condition); counts both queues; sends
		// resyncs.
		"SyncHealthFunction": {"[dynamodb:GetItem dynamodb:Query]:StateTable", "[dynamodb:GetItem dynamodb:Query]:StateTable",
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
	if len(events) != 1 {
		t.Fatalf("sweep events = %v, want one schedule", events)
	}
	for _, e := range events {
		if get(e, "Type") != "ScheduleV2" || get(e, "Properties", "ScheduleExpression") != "rate(15 minutes)" {
			t.Errorf("sweep event = %v, want ScheduleV2 rate(15 minutes)", e)
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
	watched := map[string]bool{}
	for id, a := range alarms {
		p := get(a, "Properties").(map[string]any)
		if !reflect.DeepEqual(p["AlarmActions"], []any{map[string]any{"Ref": "AlarmTopic"}}) {
			t.Errorf("%s: AlarmActions = %v, want [!Ref AlarmTopic]", id, p["AlarmActions"])
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
			case "AWS/SQS", "AWS/Lambda":
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
						if k == "QueueName" && typ != "AWS::SQS::Queue" || k == "FunctionName" && typ != "AWS::Serverless::Function" {
							t.Errorf("%s: dimension %s names %s (%v)", id, k, ref, typ)
						}
					}
				}
			default:
				t.Errorf("%s: namespace %q is neither crmsync nor AWS/SQS or AWS/Lambda", id, m.ns)
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
		emf.SyncErrors, emf.SalesforceAPIUsagePercent, emf.SweepLagSeconds, emf.SweepBehindDeletedWindow} {
		if !watched[name] {
			t.Errorf("no alarm watches %s", name)
		}
	}
	if get(resources, "AlarmTopic", "Type") != "AWS::SNS::Topic" || get(root, "Parameters", "AlarmEmail") == nil {
		t.Error("want an SNS AlarmTopic with an AlarmEmail subscription parameter")
	}
	outputs := get(root, "Outputs").(map[string]any)
	for _, o := range []string{"HubSpotWebhookURL", "SalesforceOutboundURL", "StateTableName", "TriggerQueueURL", "TriggerDeadLetterQueueURL", "AlarmTopicARN"} {
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
	tmpl := openTemplate(t)
	envs := samconfigOverrides(t)
	for _, env := range []string{"default", "dev", "prod"} {
		o, ok := envs[env]
		if !ok {
			t.Errorf("samconfig.toml has no [%s.deploy.parameters] parameter_overrides", env)
			continue
		}
		for k := range o {
			if _, ok := tmpl.Parameters[k]; !ok {
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
			return paramDefault(t, tmpl, name)
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
	tmpl := openTemplate(t)
	for id := range tmpl.GetAllServerlessFunctionResources() {
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
