package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// TestDepositRefusals drives the real terminal (journal on disk, scanner,
// printer renderers, HTTP stack) with no network, as a relay point offline.
func TestDepositRefusals(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-test")
	stranger, _ := token.GenerateKey("issuer-unknown")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	revokedRA := edge.NewID()
	trust.Revoke(revokedRA)

	dir := t.TempDir()
	offlineTerminal(t, dir, "term-refusals", trust)
	_, c := startTerminal(t, dir)

	good := signRA(t, issuer, s10(1), nil)
	parts := strings.Split(signRA(t, issuer, s10(2), nil), ".")
	tampered := parts[0] + "." + strings.Replace(parts[1], parts[1][10:14], "AAAA", 1) + "." + parts[2]
	dup := signRA(t, issuer, s10(3), nil)
	if code := c.do("POST", "/api/deposits", map[string]any{"code": dup, "weight_g": 800}, nil); code != http.StatusCreated {
		t.Fatalf("first deposit of the duplicate: status %d", code)
	}
	badS10 := s10(4)
	badS10 = badS10[:10] + string(rune('0'+(int(badS10[10]-'0')+1)%10)) + badS10[11:]

	tests := []struct {
		name    string
		code    string
		weightG int
		want    edge.RefusalCode
	}{
		{"tampered token", tampered, 800, edge.BadSignature},
		{"unknown key", signRA(t, stranger, s10(5), nil), 800, edge.UnknownIssuer},
		{"expired", signRA(t, issuer, s10(6), func(ra *edge.ReturnAuthorisation) {
			ra.IssuedAt, ra.ExpiresAt = time.Now().Add(-40*24*time.Hour), time.Now().Add(-10*24*time.Hour)
		}), 800, edge.Expired},
		{"not yet valid", signRA(t, issuer, s10(7), func(ra *edge.ReturnAuthorisation) {
			ra.NotBefore = time.Now().Add(48 * time.Hour)
		}), 800, edge.NotYetValid},
		{"revoked", signRA(t, issuer, s10(8), func(ra *edge.ReturnAuthorisation) { ra.ID = revokedRA }), 800, edge.Revoked},
		{"duplicate", dup, 800, edge.Duplicate},
		{"overweight for the RA", good, 5001, edge.Overweight},
		{"overweight for the network", s10(9), 30001, edge.Overweight},
		{"dangerous goods", signRA(t, issuer, s10(10), func(ra *edge.ReturnAuthorisation) { ra.Hazardous = true }), 800, edge.DangerousGoods},
		{"bad S10 check digit", badS10, 800, edge.BadCheckDigit},
		{"garbage text", "hello, counter!", 800, edge.UnknownFormat},
		{"control bytes", "\x00\x01\x02", 800, edge.Unreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scan scanResult
			if code := c.do("POST", "/api/scan", map[string]string{"code": tt.code}, &scan); code != http.StatusOK {
				t.Fatalf("scan: status %d", code)
			}
			if tt.want != edge.Overweight && (scan.Eligible || !slices.Contains(scan.Refusals, string(tt.want))) {
				t.Errorf("scan: eligible=%v refusals=%v, want refusal %s", scan.Eligible, scan.Refusals, tt.want)
			}
			var e apiError
			code := c.do("POST", "/api/deposits", map[string]any{"code": tt.code, "weight_g": tt.weightG}, &e)
			if code != http.StatusUnprocessableEntity || e.Error.Code != string(tt.want) {
				t.Fatalf("deposit: status %d code %q (%s), want 422 %s", code, e.Error.Code, e.Error.Message, tt.want)
			}
			if !slices.Contains(e.Error.Refusals, string(tt.want)) || e.Error.Message == "" {
				t.Errorf("deposit error body: %+v", e.Error)
			}
		})
	}

	// A refused code that is only scanned, never deposited, is a refusal
	// too; scanned again, it is still one.
	for range 2 {
		var scan scanResult
		if code := c.do("POST", "/api/scan", map[string]string{"code": "not a code"}, &scan); code != http.StatusOK || scan.Eligible {
			t.Fatalf("scan of a refused code: status %d eligible %v", code, scan.Eligible)
		}
	}

	// Every refused code is journalled once as return.refused (its refused
	// scan and its refused deposit are one parcel refused), with no token
	// text.
	var ops struct {
		Operations []edge.Operation `json:"operations"`
	}
	c.do("GET", "/api/operations?after=0&limit=1000", nil, &ops)
	refused := 0
	for _, op := range ops.Operations {
		if op.Type == edge.OpReturnRefused {
			refused++
			if strings.Contains(string(op.Data), "eyJ") {
				t.Errorf("refusal journals the token: %s", op.Data)
			}
		}
	}
	if refused != len(tests)+1 {
		t.Errorf("journalled %d refusals, want %d", refused, len(tests)+1)
	}
	// The good code still deposits at its weight.
	var dep depositResult
	if code := c.do("POST", "/api/deposits", map[string]any{"code": good, "weight_g": 4999}, &dep); code != http.StatusCreated {
		t.Fatalf("good deposit: status %d", code)
	}
}

func TestAPIRequiresSession(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-test")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-auth", trust)
	m, _ := startTerminal(t, dir)

	anon := newClient(t, m.URL())
	for _, path := range []string{"/api/status", "/api/shelf", "/api/operations"} {
		var e apiError
		if code := anon.do("GET", path, nil, &e); code != http.StatusUnauthorized || e.Error.Code != edge.EUNAUTHORIZED {
			t.Errorf("GET %s anonymous: %d %q, want 401 UNAUTHORIZED", path, code, e.Error.Code)
		}
	}
	if code := anon.do("POST", "/api/session", map[string]string{"pin": "0000"}, nil); code != http.StatusUnauthorized {
		t.Errorf("wrong PIN: status %d, want 401", code)
	}
	if code := anon.do("POST", "/api/session", map[string]string{"pin": demoManagerPIN}, nil); code != http.StatusCreated {
		t.Errorf("manager PIN: status %d, want 201", code)
	}
	var e apiError
	// JSON bodies are read only as application/json (guard_test.go).
	if code := anon.do("POST", "/api/deposits", []byte("{not json"), &e); code != http.StatusUnsupportedMediaType || e.Error.Code != edge.EMEDIATYPE {
		t.Errorf("octet-stream body: %d %q, want 415 UNSUPPORTED_MEDIA_TYPE", code, e.Error.Code)
	}

	// A cross-site request is refused even with a valid session.
	req, _ := http.NewRequest("POST", m.URL()+"/api/scan", strings.NewReader(`{"code":"x"}`))
	req.Header.Set("Origin", "http://evil.example")
	for _, ck := range anon.http.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: status %d, want 403", resp.StatusCode)
	}
}

// TestScanImageForm posts the code's image as a form upload (`curl -F`,
// an HTML form) as well as the kiosk's raw body: the form's file is read;
// a form with no file, or several and none named image, is a coded 400.
func TestScanImageForm(t *testing.T) {
	issuer, _ := token.GenerateKey("issuer-form")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-form", trust)
	m, c := startTerminal(t, dir)
	tok := signRA(t, issuer, s10(7), nil)
	png, err := httpapi.QRPNG(tok)
	if err != nil {
		t.Fatal(err)
	}
	form := func(files map[string][]byte) (string, []byte) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		w.WriteField("note", "comptoir")
		for name, data := range files {
			fw, _ := w.CreateFormFile(name, name+".png")
			fw.Write(data)
		}
		w.Close()
		return w.FormDataContentType(), buf.Bytes()
	}
	post := func(ctype string, body []byte, out any) int {
		req, _ := http.NewRequest("POST", m.URL()+"/api/scan/image", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	for _, field := range []string{"image", "file"} {
		var scan scanResult
		ctype, body := form(map[string][]byte{field: png})
		if code := post(ctype, body, &scan); code != http.StatusOK || !scan.Eligible || scan.Text != tok {
			t.Fatalf("form field %q: status %d, %+v", field, code, scan)
		}
	}
	for name, files := range map[string]map[string][]byte{"no file": {}, "two files": {"a": png, "b": png}} {
		var e apiError
		ctype, body := form(files)
		if code := post(ctype, body, &e); code != http.StatusBadRequest || e.Error.Code != edge.EINVALID || !strings.Contains(e.Error.Message, `"image"`) {
			t.Fatalf("%s: status %d, %+v", name, code, e)
		}
	}
}
