package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// ColdStart is the init duration of one function's bootstrap: from exec
// to its first request for an invocation on the Runtime API (what Lambda
// reports as Init Duration), and its ratio to the hello-world bootstrap's.
type ColdStart struct {
	Function string  `json:"function"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Ratio    float64 `json:"ratio_to_hello_p50"`
	SizeMB   float64 `json:"size_mb"`
	Error    string  `json:"error,omitempty"`
}

// secretValues are the secrets the functions read at init, from the
// Secrets Manager stand-in (JSON shapes as deployed).
var secretValues = map[string]string{
	"bench/hubspot":         `{"private_app_token":"pat-na1-bench"}`,
	"bench/salesforce":      `{"login_url":"http://127.0.0.1:9","client_id":"bench","client_secret":"bench","refresh_token":"bench"}`,
	"bench/hubspot-webhook": `{"client_secret":"bench-secret"}`,
	"bench/health-token":    `bench-health-token-0123456789abcdef`,
}

// functionEnv is each function's configuration, as template.yaml sets it.
func functionEnv(awsEndpoint string) []string {
	return []string{
		"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_ENDPOINT_URL=" + awsEndpoint,
		"AWS_LAMBDA_FUNCTION_NAME=bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/bench", "AWS_LAMBDA_LOG_STREAM_NAME=bench",
		"CRMSYNC_TABLE=crmsync-bench", "TRIGGER_QUEUE_URL=" + awsEndpoint + "/123456789012/triggers.fifo",
		"TRIGGER_DLQ_URL=" + awsEndpoint + "/123456789012/triggers-dlq.fifo",
		"HUBSPOT_CREDENTIALS_SECRET_ID=bench/hubspot", "SALESFORCE_CREDENTIALS_SECRET_ID=bench/salesforce",
		"HUBSPOT_WEBHOOK_SECRET_ID=bench/hubspot-webhook", "SYNC_HEALTH_TOKEN_SECRET_ID=bench/health-token",
		"SALESFORCE_ORG_ID=00D5e000000AbCdEAK", "SALESFORCE_ORG_KIND=sandbox", "HUBSPOT_APP_ID=1160452",
	}
}

// coldStarts builds every functions/<name> and the hello-world function
// as bootstraps for this machine's architecture with the deploy build's
// flags, and starts each n times against a local Runtime API host.
func coldStarts(ctx context.Context, root string, n int) ([]ColdStart, error) {
	dir, err := os.MkdirTemp("", "crmsync-coldstart-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	fns, err := filepath.Glob(filepath.Join(root, "functions", "*"))
	if err != nil {
		return nil, err
	}
	pkgs := map[string]string{"hello-world": "./cmd/bench/hello"}
	names := []string{"hello-world"}
	for _, f := range fns {
		if st, err := os.Stat(f); err == nil && st.IsDir() {
			name := filepath.Base(f)
			pkgs[name] = "./functions/" + name
			names = append(names, name)
		}
	}
	secrets := newSecretsStub()
	defer secrets.Close()
	var out []ColdStart
	var hello float64
	for _, name := range names {
		cs := ColdStart{Function: name}
		bin := filepath.Join(dir, name, "bootstrap")
		build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", bin, pkgs[name])
		build.Dir = root
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if msg, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("bench: build %s: %v\n%s", name, err, msg)
		}
		if st, err := os.Stat(bin); err == nil {
			cs.SizeMB = float64(st.Size()) / (1 << 20)
		}
		var s Sample
		for range n {
			d, err := initDuration(ctx, bin, functionEnv(secrets.URL))
			if err != nil {
				cs.Error = err.Error()
				break
			}
			s.Add(d.Seconds() * 1000)
		}
		if s.N() > 0 {
			cs.P50ms, cs.P99ms = s.Quantile(0.5), s.Quantile(0.99)
		}
		if name == "hello-world" {
			hello = cs.P50ms
		}
		if hello > 0 {
			cs.Ratio = cs.P50ms / hello
		}
		out = append(out, cs)
	}
	return out, nil
}

// initDuration starts bin as Lambda would and returns the time until it
// asks its Runtime API for the first invocation. A bootstrap that reports
// an init error or exits first is an error.
func initDuration(ctx context.Context, bin string, env []string) (time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	next := make(chan time.Time, 1)
	initErr := make(chan string, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case next <- time.Now():
		default:
		}
		<-r.Context().Done() // no invocation: the process is killed
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 4096))
		select {
		case initErr <- string(b):
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(l) //nolint:errcheck // closed below
	defer srv.Close()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(env, "AWS_LAMBDA_RUNTIME_API="+l.Addr().String())
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	select {
	case t := <-next:
		return t.Sub(start), nil
	case msg := <-initErr:
		return 0, fmt.Errorf("init error: %s", msg)
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("exited before its first invocation: %v: %s", err, lastLine(stderr.String()))
	case <-time.After(20 * time.Second):
		return 0, fmt.Errorf("no first invocation request within 20 s")
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// secretsStub answers Secrets Manager's GetSecretValue from secretValues
// (and every other AWS call with an error the SDK does not retry).
type secretsStub struct {
	*http.Server
	URL string
}

func newSecretsStub() *secretsStub {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return &secretsStub{Server: &http.Server{}, URL: "http://127.0.0.1:9"}
	}
	s := &secretsStub{URL: "http://" + l.Addr().String()}
	s.Server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		v, ok := secretValues[in.SecretId]
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || !ok {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ResourceNotFoundException","message":"not in the bench stand-in"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + in.SecretId,
			"Name": in.SecretId, "SecretString": v, "VersionId": "v1"})
	})}
	go s.Serve(l) //nolint:errcheck // closed by Close
	return s
}
