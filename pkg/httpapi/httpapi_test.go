package httpapi

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestRoundTrip(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	srv := httptest.NewServer(Handler(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = req
		return events.APIGatewayV2HTTPResponse{StatusCode: 202, Headers: map[string]string{"Content-Type": "text/xml"}, Body: "<ok/>"}, nil
	}))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/webhooks/hubspot%3Aa?x=1&x=2&y=%2F", strings.NewReader(`{"a":1}`))
	req.Header.Add("X-HubSpot-Signature-v3", "sig")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(body) != "<ok/>" || resp.Header.Get("Content-Type") != "text/xml" {
		t.Errorf("response %d %q %v", resp.StatusCode, body, resp.Header)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	checks := map[string][2]string{
		"method":      {got.RequestContext.HTTP.Method, "POST"},
		"rawPath":     {got.RawPath, "/webhooks/hubspot%3Aa"},
		"rawQuery":    {got.RawQueryString, "x=1&x=2&y=%2F"},
		"domainName":  {got.RequestContext.DomainName, host},
		"host header": {got.Headers["host"], host},
		"signature":   {got.Headers["x-hubspot-signature-v3"], "sig"},
		"multi":       {got.Headers["x-multi"], "a,b"},
		"query x":     {got.QueryStringParameters["x"], "1,2"},
		"body":        {got.Body, `{"a":1}`},
		"version":     {got.Version, "2.0"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if got.IsBase64Encoded {
		t.Error("text body base64-encoded")
	}
}

func TestBinaryBodyIsBase64(t *testing.T) {
	r := httptest.NewRequest("POST", "/x", strings.NewReader("\xff\xfe"))
	req, err := Request(r)
	if err != nil {
		t.Fatal(err)
	}
	if !req.IsBase64Encoded || req.Body != base64.StdEncoding.EncodeToString([]byte("\xff\xfe")) {
		t.Errorf("binary body: %+v", req)
	}
}

func TestHandlerErrorIs502(t *testing.T) {
	h := Handler(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, errors.New("boom")
	})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", w.Code)
	}
}

func TestBase64Response(t *testing.T) {
	w := httptest.NewRecorder()
	if err := WriteResponse(w, events.APIGatewayV2HTTPResponse{Body: base64.StdEncoding.EncodeToString([]byte("hi")), IsBase64Encoded: true}); err != nil {
		t.Fatal(err)
	}
	if w.Code != 200 || w.Body.String() != "hi" {
		t.Errorf("got %d %q", w.Code, w.Body.String())
	}
}
