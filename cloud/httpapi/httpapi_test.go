package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	_ "image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/badgerstore"
	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/cloud/httpapi/openapitest"
	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// testMerchant is the merchant of MustServer's issuer and partner keys.
const testMerchant = "acme"

// API keys of MustServer, one per role.
const (
	issuerKey   = "test-issuer-key"
	operatorKey = "test-operator-key"
	partnerKey  = "test-partner-key"
)

// MustServer returns a server on a Badger store in a temporary directory,
// with one API key of each role. Requests go through app.Test.
func MustServer(tb testing.TB) *httpapi.Server {
	tb.Helper()
	store, err := badgerstore.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	ctx := context.Background()
	s := httpapi.NewServer()
	s.Store = store
	s.Trust = &cloud.Trust{Store: store}
	s.Merchants = &cloud.Merchants{Store: store, Trust: s.Trust}
	s.Issuer = &cloud.Issuer{Store: store, Trust: s.Trust}
	s.Partners = &cloud.Partners{Store: store}
	s.Webhooks = &cloud.Webhooks{Store: store, Resolve: noDNS}
	s.Reports = &cloud.Reports{Store: store}
	s.Stuck = &cloud.Stuck{Store: store}
	s.Statements = &cloud.Statements{Store: store, RateCents: cloud.DefaultRelayRateCents}
	if err := s.Merchants.EnsureMerchant(ctx, testMerchant, "ACME"); err != nil {
		tb.Fatal(err)
	}
	for key, role := range map[string]cloud.Role{issuerKey: cloud.RoleIssuer, operatorKey: cloud.RoleOperator, partnerKey: cloud.RolePartner} {
		m := testMerchant
		if role == cloud.RoleOperator {
			m = ""
		}
		if err := store.PutAPIKey(ctx, cloud.APIKey{Hash: cloud.HashSecret(key), Role: role, Merchant: m}); err != nil {
			tb.Fatal(err)
		}
	}
	s.MQTTURL = "tcp://127.0.0.1:1884"
	s.Logger = slog.New(slog.DiscardHandler)
	return s
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// errCode returns the code of an error answer.
func (r response) errCode() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func do(tb testing.TB, s *httpapi.Server, method, path, key, body string) response {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	check := req.Clone(req.Context())
	resp, err := s.App().Test(req, 10000)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	openapitest.Check(tb, check, []byte(body), resp.StatusCode, resp.Header, b)
	return response{resp.StatusCode, b, resp.Header}
}

func enrol(tb testing.TB, s *httpapi.Server, id string) token.Key {
	tb.Helper()
	k, err := token.GenerateKey(id)
	if err != nil {
		tb.Fatal(err)
	}
	r := do(tb, s, "POST", "/v1/terminals", operatorKey, `{"id":"`+id+`","name":"Tabac du Coin","receipt_public_key":"`+token.EncodePublicKey(k.Public())+`"}`)
	if r.status != 201 {
		tb.Fatalf("enrol: %d %s", r.status, r.body)
	}
	return k
}

func TestEnrolTerminal(t *testing.T) {
	s := MustServer(t)
	k, _ := token.GenerateKey("x")
	pub := token.EncodePublicKey(k.Public())
	r := do(t, s, "POST", "/v1/terminals", operatorKey, `{"id":"shop-1","name":"Tabac","receipt_public_key":"`+pub+`"}`)
	var e struct {
		Terminal string `json:"terminal"`
		MQTT     struct{ URL, Username, Password string }
		Trust    json.RawMessage `json:"trust"`
	}
	r.decode(t, &e)
	if r.status != 201 || e.Terminal != "shop-1" || e.MQTT.URL != "tcp://127.0.0.1:1884" || e.MQTT.Username != "shop-1" || len(e.MQTT.Password) < 40 {
		t.Fatalf("enrol: %d %s", r.status, r.body)
	}
	tl := token.NewTrustList()
	if err := tl.LoadJWKS(e.Trust); err != nil {
		t.Fatalf("trust: %v", err)
	}
	kids := s.Trust.List().KeyIDs()
	if len(kids) != 1 {
		t.Fatalf("trust list of the cloud = %v, want the key of %s", kids, testMerchant)
	}
	if iss, bound := tl.Issuer(kids[0]); !bound || iss != testMerchant {
		t.Fatalf("trust at enrolment binds %s to %q, %v; want %s", kids[0], iss, bound, testMerchant)
	}
	// Only the password's hash is stored.
	term, err := s.Store.FindTerminal(context.Background(), "shop-1")
	if err != nil || !bytes.Equal(term.PasswordHash, cloud.HashSecret(e.MQTT.Password)) {
		t.Fatalf("stored terminal = %+v, %v", term, err)
	}

	tests := []struct {
		name, key, body string
		status          int
	}{
		{"again", operatorKey, `{"id":"shop-1","receipt_public_key":"` + pub + `"}`, 409},
		{"bad id", operatorKey, `{"id":"Shop_1","receipt_public_key":"` + pub + `"}`, 400},
		{"short id", operatorKey, `{"id":"ab","receipt_public_key":"` + pub + `"}`, 400},
		{"bad key", operatorKey, `{"id":"shop-2","receipt_public_key":"abc"}`, 400},
		{"issuer key", issuerKey, `{"id":"shop-2","receipt_public_key":"` + pub + `"}`, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := do(t, s, "POST", "/v1/terminals", tt.key, tt.body); r.status != tt.status {
				t.Fatalf("got %d %s, want %d", r.status, r.body, tt.status)
			}
		})
	}

	r = do(t, s, "GET", "/v1/terminals/shop-1", operatorKey, "")
	var v map[string]any
	r.decode(t, &v)
	if r.status != 200 || v["id"] != "shop-1" || v["online"] != false || v["acked_seq"] != 0.0 || v["last_seen"] != nil || v["password_hash"] != nil {
		t.Fatalf("terminal view: %d %s", r.status, r.body)
	}
	r = do(t, s, "GET", "/v1/terminals", operatorKey, "")
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"id":"shop-1"`)) {
		t.Fatalf("terminals: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", "/v1/terminals/shop-9", operatorKey, ""); r.status != 404 {
		t.Fatalf("unknown terminal: %d", r.status)
	}
}

func TestVerifyReceipt(t *testing.T) {
	s := MustServer(t)
	k := enrol(t, s, "shop-1")
	at := time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC)
	tok, err := token.SignReceipt(k, edge.Receipt{ID: "r-1", Tracking: "RR123456785FR", RAID: "ra-1", RelayPoint: "shop-1", At: at, WeightG: 1200, Parcels: 1, TimeSynced: true})
	if err != nil {
		t.Fatal(err)
	}
	stranger, _ := token.GenerateKey("shop-2")
	forged, _ := token.SignReceipt(stranger, edge.Receipt{ID: "r-2", Tracking: "X", At: at})
	impostor := token.Key{ID: "shop-1", Private: stranger.Private}
	badSig, _ := token.SignReceipt(impostor, edge.Receipt{ID: "r-3", Tracking: "X", At: at})

	r := do(t, s, "POST", "/v1/receipts/verify", "", `{"token":"`+tok+`"}`)
	var ok struct {
		Valid    bool   `json:"valid"`
		Terminal string `json:"terminal"`
		Receipt  struct {
			ID, Tracking string
			RAID         string    `json:"ra_id"`
			At           time.Time `json:"at"`
			WeightG      int       `json:"weight_g"`
			TimeSynced   bool      `json:"time_synced"`
		} `json:"receipt"`
	}
	r.decode(t, &ok)
	if r.status != 200 || !ok.Valid || ok.Terminal != "shop-1" || ok.Receipt.ID != "r-1" || ok.Receipt.RAID != "ra-1" || !ok.Receipt.At.Equal(at) || ok.Receipt.WeightG != 1200 || !ok.Receipt.TimeSynced {
		t.Fatalf("valid receipt: %d %s", r.status, r.body)
	}
	// Altered receipts: the claims changed under the terminal's genuine
	// signature, a return authorisation signed with the terminal's key
	// presented as a receipt (wrong typ), and an unsigned token.
	parts := strings.Split(tok, ".")
	b64 := base64.RawURLEncoding
	payload, _ := b64.DecodeString(parts[1])
	alter := func(old, new string) string {
		return parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(string(payload), old, new, 1))) + "." + parts[2]
	}
	heavier, otherParcel := alter(`"wt":1200`, `"wt":9200`), alter(`RR123456785FR`, `RR000000000FR`)
	if heavier == tok || otherParcel == tok {
		t.Fatalf("the receipt's payload %s has no weight or tracking to alter", payload)
	}
	raWithTerminalKey, err := token.SignRA(k, edge.ReturnAuthorisation{
		Issuer: "shop-1", ID: "r-1", IssuedAt: at, ExpiresAt: at.Add(time.Hour), Tracking: "RR123456785FR",
		Items: []edge.Item{{SKU: "A", Qty: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	unsigned := b64.EncodeToString([]byte(`{"alg":"none","kid":"shop-1","typ":"comptoir-receipt+jwt"}`)) + "." + parts[1] + "."
	tests := []struct{ name, token, reason string }{
		{"unknown terminal", forged, cloud.ReceiptUnknownTerminal},
		{"wrong key", badSig, string(edge.BadSignature)},
		{"tampered", tok[:len(tok)-4] + "AAAA", string(edge.BadSignature)},
		{"weight altered", heavier, string(edge.BadSignature)},
		{"tracking altered", otherParcel, string(edge.BadSignature)},
		{"return authorisation, not a receipt", raWithTerminalKey, string(edge.BadSignature)},
		{"alg none", unsigned, string(edge.BadSignature)},
		{"not a token", "hello", cloud.ReceiptMalformed},
		{"header not JSON", b64.EncodeToString([]byte("{kid")) + "." + parts[1] + "." + parts[2], cloud.ReceiptMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, "POST", "/v1/receipts/verify", "", `{"token":"`+tt.token+`"}`)
			var v struct {
				Valid  bool   `json:"valid"`
				Reason string `json:"reason"`
			}
			r.decode(t, &v)
			if r.status != 200 || v.Valid || v.Reason != tt.reason {
				t.Fatalf("got %d %s, want valid:false reason %s", r.status, r.body, tt.reason)
			}
		})
	}
	if r := do(t, s, "POST", "/v1/receipts/verify", "", `{}`); r.status != 400 {
		t.Fatalf("no token: %d", r.status)
	}
}

// handOver stores a deposit and a handover of tracking by terminal tid,
// as its uplink would.
func handOver(tb testing.TB, s *httpapi.Server, tid, tracking string) {
	tb.Helper()
	at := time.Now()
	ops := []edge.Operation{
		edge.NewOperation(edge.OpReturnDeposited, at, "", tracking, edge.DepositData{}),
		edge.NewOperation(edge.OpParcelHandedOver, at.Add(time.Second), "", tracking, edge.HandedOverData{}),
	}
	for i := range ops {
		ops[i].ID, ops[i].Terminal, ops[i].Seq = fmt.Sprintf("%s-%s-%d", tid, tracking, i), tid, uint64(i+1)
	}
	res, err := s.Store.StoreEvents(context.Background(), tid, ops, time.Now())
	if err != nil || len(res.Conflicts) != 0 {
		tb.Fatalf("store events: %+v, %v", res, err)
	}
}

func TestPartnerEvents(t *testing.T) {
	s := MustServer(t)
	c := mustCreate(t, s, `{"items":[{"sku":"A1"}]}`)
	handOver(t, s, "t-1", c.Tracking)
	now := time.Now().UTC().Add(2 * time.Second)
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	ev := `{"events":[{"id":"c-1","tracking":"` + c.Tracking + `","status":"in_transit","occurred_at":"` + at(time.Second) + `"},
	{"id":"w-1","tracking":"` + c.Tracking + `","status":"received_at_warehouse","occurred_at":"` + at(2*time.Second) + `","location":"Lyon"}]}`
	r := do(t, s, "POST", "/v1/events", partnerKey, ev)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"added":2`)) {
		t.Fatalf("post events: %d %s", r.status, r.body)
	}
	if r := do(t, s, "POST", "/v1/events", partnerKey, ev); !bytes.Contains(r.body, []byte(`"duplicates":2`)) {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	if r := do(t, s, "POST", "/v1/events", partnerKey, `{"events":[{"id":"x","tracking":"T","status":"deposited","occurred_at":"2099-01-01T10:00:00Z"}]}`); r.status != 400 {
		t.Fatalf("terminal status from a partner: %d", r.status)
	}
	if r := do(t, s, "POST", "/v1/events", issuerKey, ev); r.status != 403 {
		t.Fatalf("issuer posting events: %d", r.status)
	}
	// Keys are case-sensitive: encoding/json alone would take "Tracking"
	// as "tracking" and store the event.
	folded := `{"events":[{"id":"f-1","Tracking":"` + c.Tracking + `","status":"in_transit","occurred_at":"` + at(time.Second) + `"}]}`
	if r := do(t, s, "POST", "/v1/events", partnerKey, folded); r.status != 400 || !bytes.Contains(r.body, []byte(`events[0].Tracking: unknown key: keys are case-sensitive (did you mean \"tracking\"?)`)) {
		t.Fatalf("a key in another case: %d %s", r.status, r.body)
	}
	// What the cloud does not believe: each refused with its code, the
	// rest of the batch taken.
	other := mustCreate(t, s, `{"items":[{"sku":"B1"}]}`)
	refusals := []struct{ id, tracking, status, at, code string }{
		{"r-future", c.Tracking, "refunded", at(48 * time.Hour), cloud.EBadTime},
		{"r-before", c.Tracking, "refunded", "2020-01-01T10:00:00Z", cloud.EBadTime},
		{"r-early", other.Tracking, "in_transit", at(time.Second), cloud.EStatusOrder},
		{"r-never", "NEVERISSUED1", "in_transit", at(time.Second), edge.ENOTFOUND},
	}
	var body []string
	for _, f := range refusals {
		body = append(body, `{"id":"`+f.id+`","tracking":"`+f.tracking+`","status":"`+f.status+`","occurred_at":"`+f.at+`"}`)
	}
	body = append(body, `{"id":"ok-1","tracking":"`+c.Tracking+`","status":"refunded","occurred_at":"`+at(3*time.Second)+`"}`)
	r = do(t, s, "POST", "/v1/events", partnerKey, `{"events":[`+strings.Join(body, ",")+`]}`)
	var res cloud.PartnerResult
	r.decode(t, &res)
	if r.status != 200 || res.Added != 1 || len(res.Refused) != len(refusals) {
		t.Fatalf("mixed batch: %d %s", r.status, r.body)
	}
	for i, f := range refusals {
		if res.Refused[i].ID != f.id || res.Refused[i].Code != f.code {
			t.Errorf("refused[%d] = %+v, want %s %s", i, res.Refused[i], f.id, f.code)
		}
	}
	again := `{"events":[{"id":"ok-2","tracking":"` + c.Tracking + `","status":"exchanged","occurred_at":"` + at(4*time.Second) + `"}]}`
	if r := do(t, s, "POST", "/v1/events", partnerKey, again); !bytes.Contains(r.body, []byte(cloud.EStatusOrder)) {
		t.Fatalf("exchanged after refunded: %s", r.body)
	}
	// Another merchant's partner does not see the parcel.
	boltPartner := "pt-bolt-test"
	addMerchant(t, s, "bolt")
	if err := s.Store.PutAPIKey(context.Background(), cloud.APIKey{Hash: cloud.HashSecret(boltPartner), Role: cloud.RolePartner, Merchant: "bolt"}); err != nil {
		t.Fatal(err)
	}
	late := `{"events":[{"id":"b-1","tracking":"` + other.Tracking + `","status":"refunded","occurred_at":"` + at(time.Second) + `"}]}`
	if r := do(t, s, "POST", "/v1/events", boltPartner, late); !bytes.Contains(r.body, []byte(edge.ENOTFOUND)) {
		t.Fatalf("another merchant's partner: %s", r.body)
	}
	r = do(t, s, "GET", "/v1/parcels/"+c.Tracking+"/timeline", operatorKey, "")
	var tl struct {
		Timeline []cloud.TimelineEntry `json:"timeline"`
	}
	r.decode(t, &tl)
	var got []string
	for _, e := range tl.Timeline {
		got = append(got, string(e.Status))
	}
	if strings.Join(got, ",") != "created,deposited,handed_over,in_transit,received_at_warehouse,refunded" {
		t.Fatalf("timeline = %v", got)
	}
	if r := do(t, s, "GET", "/v1/parcels/"+c.Tracking+"/timeline", boltPartner, ""); r.status != 404 {
		t.Fatalf("another merchant's timeline: %d %s", r.status, r.body)
	}
}

func TestTrackPage(t *testing.T) {
	s := MustServer(t)
	c := mustCreate(t, s, `{"items":[{"sku":"A1"}]}`)
	r := do(t, s, "GET", "/track/"+c.Tracking, "", "")
	if r.status != 200 || !bytes.Contains(r.body, []byte("Retour autorisé")) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("track page: %d %s", r.status, r.body)
	}
	// Browsers percent-encode < and > in paths; quotes and & come through.
	r = do(t, s, "GET", `/track/x&y"z'`, "", "")
	if bytes.Contains(r.body, []byte(`x&y"z'`)) || !bytes.Contains(r.body, []byte("x&amp;y&#34;z&#39;")) {
		t.Fatalf("tracking not escaped: %s", r.body)
	}
}

func TestMiscRoutes(t *testing.T) {
	s := MustServer(t)
	if r := do(t, s, "GET", "/healthz", "", ""); r.status != 200 {
		t.Fatalf("healthz: %d", r.status)
	}
	r := do(t, s, "GET", "/v1/trust", "", "")
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"iss":"`+testMerchant+`"`)) {
		t.Fatalf("trust: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", "/v1/nothing", "", ""); r.status != 404 || r.errCode() != edge.ENOTFOUND {
		t.Fatalf("unknown route: %d %s", r.status, r.body)
	}
	// The body limit is enforced by the listener, so this one goes over TCP.
	if err := s.Open("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := postOverLimit(t, s.Addr(), "/v1/returns"); got != 413 {
		t.Fatalf("large body: %d", got)
	}
	if r := do(t, s, "POST", "/v1/terminals/shop-1/commands", operatorKey, `{"type":"ping"}`); r.status != 404 {
		t.Fatalf("command to unknown terminal: %d %s", r.status, r.body)
	}
}

// postOverLimit announces a body one byte over httpapi.BodyLimit on a raw
// connection and returns the status of the answer. It sends only the
// headers: the server refuses on the Content-Length and closes without
// reading the body, so a client that wrote the body would race that close
// and could see a broken pipe instead of the answer.
func postOverLimit(tb testing.TB, addr, path string) int {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		path, addr, httpapi.BodyLimit+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("over-limit body: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
