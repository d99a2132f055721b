package httpapi_test

import (
	"bytes"
	"image"
	_ "image/png"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

type created struct {
	RAID     string `json:"ra_id"`
	Tracking string `json:"tracking"`
	Token    string `json:"token"`
	QRPNGURL string `json:"qr_png_url"`
}

func mustCreate(tb testing.TB, s *httpapi.Server, body string) created {
	tb.Helper()
	r := do(tb, s, "POST", "/v1/returns", issuerKey, body)
	if r.status != 201 {
		tb.Fatalf("create return: %d %s", r.status, r.body)
	}
	var c created
	r.decode(tb, &c)
	return c
}

// addMerchant creates merchant id through the API and returns its issuer
// key.
func addMerchant(tb testing.TB, s *httpapi.Server, id string) string {
	tb.Helper()
	r := do(tb, s, "POST", "/v1/merchants", operatorKey, `{"id":"`+id+`","name":"Shop `+id+`"}`)
	var m struct {
		Merchant  string `json:"merchant"`
		IssuerKey string `json:"issuer_key"`
	}
	r.decode(tb, &m)
	if r.status != 201 || m.Merchant != id || m.IssuerKey == "" {
		tb.Fatalf("create merchant %s: %d %s", id, r.status, r.body)
	}
	return m.IssuerKey
}

func TestCreateReturn_Errors(t *testing.T) {
	s := MustServer(t)
	item := `{"items":[{"sku":"A1"}]}`
	tests := []struct {
		name, key, body string
		status          int
		code            string
	}{
		{"no key", "", item, 401, edge.EUNAUTHORIZED},
		{"unknown key", "guess", item, 401, edge.EUNAUTHORIZED},
		{"operator key", operatorKey, item, 403, edge.EFORBIDDEN},
		{"partner key", partnerKey, item, 403, edge.EFORBIDDEN},
		{"malformed JSON", issuerKey, `{"items":[`, 400, edge.EINVALID},
		{"trailing data", issuerKey, item + `{}`, 400, edge.EINVALID},
		{"empty body", issuerKey, "", 400, edge.EINVALID},
		{"no items", issuerKey, `{"carrier":"X"}`, 400, edge.EINVALID},
		{"item without sku", issuerKey, `{"items":[{"qty":1}]}`, 400, edge.EINVALID},
		{"unknown reason", issuerKey, `{"items":[{"sku":"A","reason":"BORED"}]}`, 400, edge.EINVALID},
		{"unknown mode", issuerKey, `{"items":[{"sku":"A"}],"mode":"drone"}`, 400, edge.EINVALID},
		{"bad check digit", issuerKey, `{"items":[{"sku":"A"}],"tracking":"RR123456784FR"}`, 400, edge.EINVALID},
		{"bad tracking", issuerKey, `{"items":[{"sku":"A"}],"tracking":"x y"}`, 400, edge.EINVALID},
		{"too long", issuerKey, `{"items":[{"sku":"A"}],"valid_days":400}`, 400, edge.EINVALID},
		{"bad dims", issuerKey, `{"items":[{"sku":"A"}],"dims_mm":[1,2]}`, 400, edge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, "POST", "/v1/returns", tt.key, tt.body)
			if r.status != tt.status || r.errCode() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
}

func TestCreateReturn(t *testing.T) {
	s := MustServer(t)
	c := mustCreate(t, s, `{"items":[{"sku":"A1","name":"Shoes","qty":1,"reason":"WRONG_SIZE"}]}`)
	if !cloud.ValidGeneratedTracking(c.Tracking) {
		t.Fatalf("generated tracking %q has not the form of ours, or a wrong check digit", c.Tracking)
	}
	if !strings.HasPrefix(c.QRPNGURL, "http://example.com/v1/returns/"+c.RAID+"/qr.png?exp=") || !strings.Contains(c.QRPNGURL, "&sig=") {
		t.Fatalf("qr_png_url = %s, want a signed link", c.QRPNGURL)
	}
	// The token is a valid RA of this issuer with the defaults.
	ra, err := token.VerifyRA(s.Trust.List(), c.Token, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ra.ID != c.RAID || ra.Tracking != c.Tracking || ra.Issuer != testMerchant || ra.Carrier != cloud.DefaultCarrier ||
		ra.Mode != edge.ModeLabelAtCounter || ra.Dest != cloud.DefaultDest || len(ra.Items) != 1 {
		t.Fatalf("RA = %+v", ra)
	}
	if days := ra.ExpiresAt.Sub(ra.IssuedAt).Hours() / 24; days != cloud.DefaultValidDays {
		t.Fatalf("RA valid %v days, want %d", days, cloud.DefaultValidDays)
	}
	// A typical token of the defaults (warehouse id, one item) stays a QR
	// code a phone shows: the bound of scanner/token's "typical with a
	// warehouse id".
	qr, err := encoder.Encoder_encodeWithoutHint(c.Token, decoder.ErrorCorrectionLevel_M)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("typical token: %d bytes, QR version %d-M", len(c.Token), qr.GetVersion().GetVersionNumber())
	if v := qr.GetVersion().GetVersionNumber(); v > 19 {
		t.Errorf("typical token of %d bytes needs QR version %d-M, above 19", len(c.Token), v)
	}

	// The given tracking is kept, and its timeline starts with "created".
	c2 := mustCreate(t, s, `{"items":[{"sku":"A1"}],"tracking":"RR123456785FR","valid_days":7,"mode":"prelabelled","carrier":"LPOST"}`)
	if c2.Tracking != "RR123456785FR" {
		t.Fatalf("tracking = %s", c2.Tracking)
	}
	r := do(t, s, "GET", "/v1/parcels/RR123456785FR/timeline", partnerKey, "")
	var tl struct {
		Tracking string                `json:"tracking"`
		Timeline []cloud.TimelineEntry `json:"timeline"`
	}
	r.decode(t, &tl)
	if r.status != 200 || tl.Tracking != "RR123456785FR" || len(tl.Timeline) != 1 || tl.Timeline[0].Status != cloud.StatusCreated || tl.Timeline[0].EventID != c2.RAID {
		t.Fatalf("timeline = %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", "/v1/parcels/RR123456785FR/timeline", "", ""); r.status != 401 {
		t.Fatalf("timeline without key: %d", r.status)
	}
	if r := do(t, s, "GET", "/v1/returns/"+c2.RAID, issuerKey, ""); r.status != 200 || !bytes.Contains(r.body, []byte(c2.Token)) {
		t.Fatalf("get return: %d %s", r.status, r.body)
	}
}

func TestReturnQR(t *testing.T) {
	s := MustServer(t)
	c := mustCreate(t, s, `{"items":[{"sku":"A1","qty":2,"reason":"DAMAGED"}]}`)
	link := strings.TrimPrefix(c.QRPNGURL, "http://example.com")
	r := do(t, s, "GET", link, "", "")
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// Without the signed link: the issuer of its merchant only; the bare
	// path, a tampered or expired link, another merchant: 404.
	bare := "/v1/returns/" + c.RAID + "/qr.png"
	if r := do(t, s, "GET", bare, issuerKey, ""); r.status != 200 {
		t.Fatalf("qr.png with the issuer's key: %d %s", r.status, r.body)
	}
	other := addMerchant(t, s, "bolt")
	tampered := link[:len(link)-2] + "AA"
	if link[len(link)-2:] == "AA" {
		tampered = link[:len(link)-2] + "BB"
	}
	for name, req := range map[string][2]string{
		"bare": {bare, ""}, "tampered": {tampered, ""}, "another merchant": {bare, other},
		"another id": {strings.Replace(link, c.RAID, "0190abcd-0000-7000-8000-000000000000", 1), ""},
	} {
		if r := do(t, s, "GET", req[0], req[1], ""); r.status != 404 || r.errCode() != edge.ENOTFOUND {
			t.Errorf("%s: %d %s, want 404", name, r.status, r.body)
		}
	}
	s.Issuer.Now = func() time.Time { return time.Now().AddDate(0, 0, cloud.DefaultValidDays+1) }
	if r := do(t, s, "GET", link, "", ""); r.status != 404 {
		t.Errorf("expired link: %d, want 404", r.status)
	}
	s.Issuer.Now = nil
	img, _, err := image.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	// No hints: as a scanner would read it.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	if res.GetText() != c.Token {
		t.Fatalf("QR holds %q, want the token", res.GetText())
	}
	if w := img.Bounds().Dx(); w%8 != 0 {
		t.Fatalf("QR width %d is not a whole number of 8 px modules", w)
	}
	if r := do(t, s, "GET", "/v1/returns/nope/qr.png", "", ""); r.status != 404 || r.errCode() != edge.ENOTFOUND {
		t.Fatalf("unknown RA: %d %s", r.status, r.body)
	}
}
