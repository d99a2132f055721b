// Package openapitest checks HTTP exchanges against the cloud API's
// OpenAPI description (cloud/httpapi's openapi.json), for the tests of
// every package that talks to the API: the handlers' (cloud/httpapi) and
// the whole cloud's (cloud/server), so that the description cannot drift
// from what the server answers.
package openapitest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/helpers"

	"github.com/comptoir/comptoir/cloud/httpapi"
)

// The description, parsed and checked once for all the tests of a binary.
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

// Check fails tb when the request and the response disagree with
// the description: a request it refuses must be refused (4xx), and every
// response of a path it describes must match it (its status, content type
// and body).
func Check(tb testing.TB, req *http.Request, body []byte, status int, header http.Header, respBody []byte) {
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
