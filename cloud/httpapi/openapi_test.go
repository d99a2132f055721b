package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/comptoir/comptoir/cloud/httpapi"
)

// The OpenAPI description (openapi.json) checks every exchange of these
// tests: do hands each request and response to checkExchange.
var (
	specOnce sync.Once
	spec     validator.Validator
	specErr  error
)

func openAPIValidator(tb testing.TB) validator.Validator {
	tb.Helper()
	specOnce.Do(func() {
		doc, err := libopenapi.NewDocument(httpapi.OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		v, errs := validator.NewValidator(doc)
		if len(errs) > 0 {
			specErr = errs[0]
			return
		}
		if ok, verrs := v.ValidateDocument(); !ok {
			specErr = verrs[0]
			return
		}
		spec = v
	})
	if specErr != nil {
		tb.Fatalf("openapi.json: %v", specErr)
	}
	return spec
}

// checkExchange fails tb when the request and the response disagree with
// the description: a request it refuses must be refused (4xx), and every
// response of a path it describes must match it (its status, content type
// and body).
func checkExchange(tb testing.TB, req *http.Request, body []byte, status int, header http.Header, respBody []byte) {
	tb.Helper()
	v := openAPIValidator(tb)
	r := req.Clone(req.Context())
	// The handlers read an empty query parameter as an absent one
	// (c.Query), as the description means it: drop them before checking.
	q := r.URL.Query()
	for k, vs := range q {
		if len(vs) == 1 && vs[0] == "" {
			q.Del(k)
		}
	}
	r.URL.RawQuery = q.Encode()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	ok, errs := v.ValidateHttpRequestSync(r)
	for _, e := range errs {
		if e.ValidationType == helpers.PathValidation || strings.Contains(e.Message, "not found") && e.ValidationType == helpers.ParameterValidationPath {
			// A path or method the API does not have: it must answer an
			// error, and there is no response to check.
			if status < 400 {
				tb.Errorf("openapi: %s %s answered %d but is not in openapi.json", req.Method, req.URL, status)
			}
			return
		}
	}
	if !ok && (status < 400 || status >= 500) {
		tb.Errorf("openapi: %s %s answered %d to a request openapi.json refuses: %s", req.Method, req.URL, status, validationErrors(errs))
	}
	resp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(bytes.NewReader(respBody)), Request: r}
	if ok, errs := v.ValidateHttpResponse(r, resp); !ok {
		tb.Errorf("openapi: %s %s: the response %d %.300s does not match openapi.json: %s", req.Method, req.URL, status, respBody, validationErrors(errs))
	}
}

func validationErrors[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

// TestOpenAPIServed: /v1/openapi.json answers the description, with no
// key, and it names every route of the server (the route :param as
// {param}).
func TestOpenAPIServed(t *testing.T) {
	s := MustServer(t)
	r := do(t, s, "GET", "/v1/openapi.json", "", "")
	if r.status != 200 || !bytes.Equal(r.body, httpapi.OpenAPI) {
		t.Fatalf("GET /v1/openapi.json: %d, %d bytes; want the %d of openapi.json", r.status, len(r.body), len(httpapi.OpenAPI))
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi %q, %v", doc.OpenAPI, err)
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	for _, rt := range s.App().GetRoutes(true) {
		if rt.Path == "/" || rt.Method == "HEAD" || rt.Method == "USE" {
			continue
		}
		p := param.ReplaceAllString(rt.Path, "{$1}")
		if _, ok := doc.Paths[p][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", rt.Method, p)
		}
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// TestOpenAPIDrift: checkExchange fails a response that drifts from the
// description (a field renamed, of another type, a status not described)
// and a request it refuses that the server took.
func TestOpenAPIDrift(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name, method, path, body string
		status                   int
		resp                     string
		drift                    bool
	}{
		{"as described", "GET", "/v1/events?limit=5", "", 200, `{"events":[],"next":"0"}`, false},
		{"an error as described", "GET", "/v1/events?limit=x", "", 400, `{"error":{"code":"INVALID","message":"no"}}`, false},
		{"a cursor of another type", "GET", "/v1/events", "", 200, `{"events":[],"next":0}`, true},
		{"a field renamed", "GET", "/v1/events", "", 200, `{"items":[],"next":"0"}`, true},
		{"201 for 200", "GET", "/v1/events", "", 201, `{"events":[],"next":"0"}`, true},
		{"an event without its type", "GET", "/v1/events", "", 200,
			`{"events":[{"id":"e","tracking":"T","occurred_at":"2026-01-01T00:00:00Z","data":{"tracking":"T","ra_id":"","occurred_at":"2026-01-01T00:00:00Z","status":"created"}}],"next":"1"}`, true},
		{"a refused request taken", "POST", "/v1/webhooks", `{"url":"https://x.example"}`, 201,
			`{"id":"w","merchant":"m","url":"https://x.example","events":["*"],"created_at":"2026-01-01T00:00:00Z","cursor":0,"attempts":0,"log":[],"secret":"whsec_x"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer k")
			rec := &recorder{TB: t}
			checkExchange(rec, req, []byte(tt.body), tt.status, json, []byte(tt.resp))
			if got := len(rec.failed) > 0; got != tt.drift {
				t.Errorf("drift found = %v, want %v: %q", got, tt.drift, rec.failed)
			}
		})
	}
}
