// Package httpapi serves Lambda handlers of API Gateway HTTP API (payload
// format 2.0) and Function URL events over plain net/http, so that
// `crmsync local` and end-to-end tests run the receivers' exact handler
// code on a local port.
//
// The request is converted as API Gateway does it: header names are
// lower-cased and repeated values joined with commas, requestContext
// carries the Host as domainName and the method, path and source IP, the
// raw path and query string are kept verbatim, and a body that is not valid
// UTF-8 is base64-encoded with isBase64Encoded set.
package httpapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// HandlerFunc is the signature of an HTTP API / Function URL Lambda handler.
type HandlerFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// MaxBody caps how much of a request body is read (API Gateway's own
// payload limit is 10 MB); the handler applies its own, smaller cap.
const MaxBody = 10 << 20

// Handler adapts h to net/http. A handler error becomes a 502, as API
// Gateway answers when an integration fails.
func Handler(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := Request(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		resp, err := h(r.Context(), req)
		if err != nil {
			http.Error(w, `{"message":"Internal Server Error"}`, http.StatusBadGateway)
			return
		}
		if err := WriteResponse(w, resp); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
}

// Request converts an incoming HTTP request to the event API Gateway would
// deliver.
func Request(r *http.Request) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("httpapi: read body: %w", err)
	}
	if len(body) > MaxBody {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("httpapi: body over %d bytes", MaxBody)
	}
	headers := make(map[string]string, len(r.Header)+1)
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	headers["host"] = r.Host
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	req := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              "$default",
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     "$default",
			Stage:        "$default",
			DomainName:   r.Host,
			DomainPrefix: strings.SplitN(r.Host, ".", 2)[0],
			RequestID:    fmt.Sprintf("local-%d", now.UnixNano()),
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			req.Body = string(body)
		} else {
			req.Body = base64.StdEncoding.EncodeToString(body)
			req.IsBase64Encoded = true
		}
	}
	return req, nil
}

// WriteResponse writes a handler's response as API Gateway would.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("httpapi: response body is not base64: %w", err)
		}
		body = b
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
