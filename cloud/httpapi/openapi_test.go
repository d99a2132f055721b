package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/cloud/httpapi/openapitest"
)

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

// TestOpenAPIDrift: openapitest.Check fails a response that drifts from the
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
			openapitest.Check(rec, req, []byte(tt.body), tt.status, json, []byte(tt.resp))
			if got := len(rec.failed) > 0; got != tt.drift {
				t.Errorf("drift found = %v, want %v: %q", got, tt.drift, rec.failed)
			}
		})
	}
}
