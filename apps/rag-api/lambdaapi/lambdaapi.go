// Package lambdaapi runs rag-api's HTTP handler behind AWS Lambda: Function
// URLs and API Gateway HTTP APIs both deliver the payload format 2.0 event.
// Responses are buffered (a streamed answer arrives as one SSE body).
package lambdaapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Handler adapts h to a Lambda handler function.
func Handler(h http.Handler) func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		req, err := toRequest(ctx, ev)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest,
				Headers: map[string]string{"Content-Type": "application/json"},
				Body:    fmt.Sprintf(`{"error":%q}`, err.Error())}, nil
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := events.APIGatewayV2HTTPResponse{StatusCode: rec.Code, Headers: map[string]string{}}
		for k, v := range rec.Header() {
			resp.Headers[k] = strings.Join(v, ",")
		}
		ct := rec.Header().Get("Content-Type")
		if isText(ct) {
			resp.Body = rec.Body.String()
		} else {
			resp.Body = base64.StdEncoding.EncodeToString(rec.Body.Bytes())
			resp.IsBase64Encoded = true
		}
		return resp, nil
	}
}

func isText(ct string) bool {
	return ct == "" || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "json") || strings.Contains(ct, "javascript")
}

func toRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("body is marked base64 but does not decode: %w", err)
		}
		body = b
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, fmt.Errorf("event has no requestContext.http.method: not a payload 2.0 event")
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	u := &url.URL{Path: path, RawQuery: ev.RawQueryString}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	req.Host = ev.RequestContext.DomainName
	return req, nil
}
