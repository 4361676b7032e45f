package health

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// maxLambdaBody caps a request body the Lambda accepts (the pages post
// small forms).
const maxLambdaBody = 64 << 10

// HandleLambda serves one Function URL (or HTTP API payload 2.0) request
// through ServeHTTP: functions/sync-health's handler. The request is
// rebuilt as net/http would see it (the cookies that payload 2.0 carries
// apart from the headers go back into a Cookie header); Set-Cookie
// headers of the answer become its cookies.
func (h *Handler) HandleLambda(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return textResponse(http.StatusBadRequest, "the body is not valid base64"), nil
		}
		body = b
	}
	if len(body) > maxLambdaBody {
		return textResponse(http.StatusRequestEntityTooLarge, "body too large"), nil
	}
	method := req.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	path := req.RawPath
	if path == "" {
		path = "/"
	}
	target := path
	if req.RawQueryString != "" {
		target += "?" + req.RawQueryString
	}
	r, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return textResponse(http.StatusBadRequest, "bad request line: "+err.Error()), nil
	}
	for k, v := range req.Headers {
		r.Header.Set(k, v)
	}
	if len(req.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(req.Cookies, "; "))
	}
	r.Host = req.RequestContext.DomainName
	if r.Host == "" {
		r.Host = req.Headers["host"]
	}
	r.RemoteAddr = req.RequestContext.HTTP.SourceIP + ":0"
	r.RequestURI = target
	w := &lambdaWriter{header: http.Header{}}
	h.ServeHTTP(w, r)
	resp := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{},
		Body: w.body.String(), Cookies: w.header.Values("Set-Cookie")}
	if resp.StatusCode == 0 {
		resp.StatusCode = http.StatusOK
	}
	for k, vs := range w.header {
		if k != "Set-Cookie" {
			resp.Headers[k] = strings.Join(vs, ", ")
		}
	}
	return resp, nil
}

func textResponse(status int, msg string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: status,
		Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, Body: fmt.Sprintln(msg)}
}

// lambdaWriter collects an answer in memory.
type lambdaWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *lambdaWriter) Header() http.Header { return w.header }

func (w *lambdaWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *lambdaWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
