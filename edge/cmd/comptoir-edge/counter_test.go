package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/scanner/token"
)

// The counter's use cases through the real HTTP stack of an offline
// terminal: sessions and roles, in-store returns, cancellations, the shelf,
// handovers, history and the day's summary.

// counterTerminal starts an offline terminal whose Desk clock the test can
// move forward, signed in as the demo clerk; manager is signed in as the
// demo manager.
type counterTerminal struct {
	m       *Main
	clerk   *client
	manager *client
	issuer  token.Key
	skew    atomic.Int64 // added to the Desk's clock, in ns
}

func newCounterTerminal(t *testing.T, tid string, opts ...func(*Config)) *counterTerminal {
	t.Helper()
	issuer, _ := token.GenerateKey("issuer-counter")
	trust := token.NewTrustList()
	trust.AddKey(issuer.ID, issuer.Public())
	dir := t.TempDir()
	offlineTerminal(t, dir, tid, trust)
	ct := &counterTerminal{issuer: issuer}
	ct.m, ct.clerk = startTerminal(t, dir, opts...)
	ct.m.desk.Now = func() time.Time { return time.Now().Add(time.Duration(ct.skew.Load())) }
	ct.manager = newClient(t, ct.m.URL())
	if code := ct.manager.do("POST", "/api/session", map[string]string{"pin": demoManagerPIN}, nil); code != http.StatusCreated {
		t.Fatalf("manager sign in: %d", code)
	}
	return ct
}

func (ct *counterTerminal) later(d time.Duration) { ct.skew.Add(int64(d)) }

// ra signs an RA of tracking with two SKU-1 and one SKU-2.
func (ct *counterTerminal) ra(t *testing.T, tracking, carrier string) string {
	return signRA(t, ct.issuer, tracking, func(ra *edge.ReturnAuthorisation) {
		ra.Carrier = carrier
		ra.Items = []edge.Item{{SKU: "SKU-1", Name: "Pull", Qty: 2, Reason: edge.ReasonWrongSize}, {SKU: "SKU-2", Name: "Jupe", Qty: 1}}
	})
}

func (ct *counterTerminal) deposit(t *testing.T, code string) depositResult {
	t.Helper()
	var dep depositResult
	if status := ct.clerk.do("POST", "/api/deposits", map[string]any{"code": code, "weight_g": 700}, &dep); status != http.StatusCreated {
		t.Fatalf("deposit: status %d", status)
	}
	return dep
}

type shelfResult struct {
	Parcels []struct {
		DepositID   string    `json:"deposit_id"`
		Tracking    string    `json:"tracking"`
		Carrier     string    `json:"carrier"`
		Slot        string    `json:"slot"`
		DepositedAt time.Time `json:"deposited_at"`
		AgeS        float64   `json:"age_s"`
		Overdue     bool      `json:"overdue"`
		Operator    string    `json:"operator"`
	} `json:"parcels"`
	Count    int            `json:"count"`
	Total    int            `json:"total"`
	Capacity int            `json:"capacity"`
	State    string         `json:"state"`
	Overdue  int            `json:"overdue"`
	Carriers map[string]int `json:"carriers"`
}

func (ct *counterTerminal) shelf(t *testing.T, query string) shelfResult {
	t.Helper()
	var s shelfResult
	if code := ct.clerk.do("GET", "/api/shelf"+query, nil, &s); code != http.StatusOK {
		t.Fatalf("shelf: status %d", code)
	}
	return s
}

func (s shelfResult) trackings() []string {
	var out []string
	for _, p := range s.Parcels {
		out = append(out, p.Tracking)
	}
	return out
}

// wantError checks an error answer's status and code.
func wantError(t *testing.T, what string, status int, e apiError, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || e.Error.Code != wantCode || e.Error.Message == "" {
		t.Errorf("%s: %d %q (%s), want %d %s", what, status, e.Error.Code, e.Error.Message, wantStatus, wantCode)
	}
}

func TestCounterAuth(t *testing.T) {
	ct := newCounterTerminal(t, "term-counter-auth")
	anon := newClient(t, ct.m.URL())
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/instore-returns"}, {"POST", "/api/deposits/x/cancel"}, {"GET", "/api/shelf"},
		{"POST", "/api/handovers"}, {"GET", "/api/operations"}, {"GET", "/api/summary"},
		{"POST", "/api/days/2026-11-24/close"}, {"GET", "/api/staff"}, {"POST", "/api/staff"},
		{"POST", "/api/staff/x/disable"}, {"GET", "/api/session"}, {"POST", "/api/scan"},
	} {
		var e apiError
		code := anon.do(r.method, r.path, map[string]any{}, &e)
		wantError(t, "anonymous "+r.method+" "+r.path, code, e, http.StatusUnauthorized, edge.EUNAUTHORIZED)
	}
	// Clerks are refused manager-only actions.
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/staff", nil},
		{"POST", "/api/staff", map[string]string{"name": "Eve", "role": "manager", "pin": "5555"}},
		{"POST", "/api/staff/x/disable", nil},
		{"POST", "/api/days/2026-11-24/close", nil},
	} {
		var e apiError
		code := ct.clerk.do(r.method, r.path, r.body, &e)
		wantError(t, "clerk "+r.method+" "+r.path, code, e, http.StatusForbidden, edge.EFORBIDDEN)
	}

	// A manager adds a clerk, who signs in; disabling signs her out and
	// refuses her PIN.
	var added struct {
		Staff struct {
			ID, Name, Role string
			Disabled       bool
		} `json:"staff"`
	}
	if code := ct.manager.do("POST", "/api/staff", map[string]string{"name": "Inès", "role": "clerk", "pin": "2468"}, &added); code != http.StatusCreated || added.Staff.Role != "clerk" {
		t.Fatalf("add staff: %d %+v", code, added)
	}
	var e apiError
	code := ct.manager.do("POST", "/api/staff", map[string]string{"name": "Copy", "role": "clerk", "pin": "2468"}, &e)
	// A taken PIN is not told as such (TestStaffAddDoesNotTellTakenPINs).
	wantError(t, "PIN taken", code, e, http.StatusBadRequest, edge.EINVALID)
	code = ct.manager.do("POST", "/api/staff", map[string]string{"name": "Bad", "role": "boss", "pin": "1357"}, &e)
	wantError(t, "unknown role", code, e, http.StatusBadRequest, edge.EINVALID)
	var list struct {
		Staff []map[string]any `json:"staff"`
	}
	ct.manager.do("GET", "/api/staff", nil, &list)
	if len(list.Staff) != 3 {
		t.Errorf("staff list: %v", list.Staff)
	}
	for _, s := range list.Staff {
		if _, ok := s["pin_hash"]; ok {
			t.Errorf("staff list shows PIN hashes: %v", s)
		}
	}
	ines := newClient(t, ct.m.URL())
	var me struct {
		Staff struct{ ID string } `json:"staff"`
	}
	if code := ines.do("POST", "/api/session", map[string]string{"pin": "2468"}, &me); code != http.StatusCreated || me.Staff.ID != added.Staff.ID {
		t.Fatalf("new clerk sign in: %d %+v", code, me)
	}
	if code := ct.manager.do("POST", "/api/staff/"+added.Staff.ID+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	if code := ines.do("GET", "/api/shelf", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("disabled clerk's session: %d, want 401", code)
	}
	if code := ines.do("POST", "/api/session", map[string]string{"pin": "2468"}, nil); code != http.StatusUnauthorized {
		t.Errorf("disabled clerk's PIN: %d, want 401", code)
	}

	// The last manager cannot be disabled.
	var who struct {
		Staff struct{ ID string } `json:"staff"`
	}
	ct.manager.do("GET", "/api/session", nil, &who)
	code = ct.manager.do("POST", "/api/staff/"+who.Staff.ID+"/disable", nil, &e)
	wantError(t, "last manager", code, e, http.StatusConflict, edge.ECONFLICT)

	// Cross-site state changes are refused before anything else.
	req, _ := http.NewRequest("POST", ct.m.URL()+"/api/handovers", strings.NewReader(`{"all":true}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, ck := range ct.manager.http.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site handover: %d, want 403", resp.StatusCode)
	}

	// The session cookie is HttpOnly and SameSite=Strict.
	resp, err = http.Post(ct.m.URL()+"/api/session", "application/json", bytes.NewReader([]byte(`{"pin":"1234"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, "HttpOnly") || !strings.Contains(strings.ToLower(c), "samesite=strict") {
		t.Errorf("session cookie %q", c)
	}
}

func TestCounterLockout(t *testing.T) {
	ct := newCounterTerminal(t, "term-counter-lock")
	anon := newClient(t, ct.m.URL())
	for i := 1; i < 5; i++ {
		var e apiError
		code := anon.do("POST", "/api/session", map[string]string{"pin": "0000"}, &e)
		wantError(t, "wrong PIN", code, e, http.StatusUnauthorized, edge.EUNAUTHORIZED)
	}
	var e apiError
	code := anon.do("POST", "/api/session", map[string]string{"pin": "0000"}, &e)
	wantError(t, "fifth wrong PIN", code, e, http.StatusTooManyRequests, edge.ELOCKED)
	code = anon.do("POST", "/api/session", map[string]string{"pin": "1234"}, &e)
	wantError(t, "right PIN while locked", code, e, http.StatusTooManyRequests, edge.ELOCKED)
	// Sessions already open go on working.
	if code := ct.clerk.do("GET", "/api/shelf", nil, nil); code != http.StatusOK {
		t.Errorf("open session during lockout: %d", code)
	}
}

func TestCounterInstore(t *testing.T) {
	ct := newCounterTerminal(t, "term-counter-instore")
	code := ct.ra(t, s10(101), "DEMO")
	item := func(sku string, qty int) map[string]any {
		return map[string]any{"sku": sku, "qty": qty, "condition": "OPENED", "disposition": "RESTOCK"}
	}
	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantCode   string
	}{
		{"item not in the RA", map[string]any{"code": code, "items": []any{item("SKU-9", 1)}, "resolution": "REFUND"}, 422, edge.EITEMNOTINRA},
		{"more than the RA", map[string]any{"code": code, "items": []any{item("SKU-2", 2)}, "resolution": "REFUND"}, 422, edge.EQTYABOVERA},
		{"bad condition", map[string]any{"code": code, "items": []any{map[string]any{"sku": "SKU-1", "qty": 1, "condition": "USED", "disposition": "RESTOCK"}}, "resolution": "REFUND"}, 400, edge.EINVALID},
		{"bad resolution", map[string]any{"code": code, "items": []any{item("SKU-1", 1)}, "resolution": "CASH"}, 400, edge.EINVALID},
		{"tracking barcode", map[string]any{"code": s10(102), "items": []any{item("SKU-1", 1)}, "resolution": "REFUND"}, 422, edge.ERAREQUIRED},
		{"forged code", map[string]any{"code": signRA(t, mustKey(t), s10(103), nil), "items": []any{item("SKU-1", 1)}, "resolution": "REFUND"}, 422, string(edge.UnknownIssuer)},
		{"unknown field", map[string]any{"code": code, "items": []any{item("SKU-1", 1)}, "resolution": "REFUND", "price": 3}, 400, edge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			status := ct.clerk.do("POST", "/api/instore-returns", tt.body, &e)
			wantError(t, tt.name, status, e, tt.wantStatus, tt.wantCode)
		})
	}
	var got struct {
		Instore struct {
			ID         string `json:"id"`
			Tracking   string `json:"tracking"`
			Operator   string `json:"operator"`
			Resolution string `json:"resolution"`
			Items      []struct {
				SKU, Name, Condition, Disposition string
				Qty                               int
			} `json:"items"`
		} `json:"instore_return"`
	}
	body := map[string]any{"code": code, "resolution": "EXCHANGE", "items": []any{
		item("SKU-1", 1), map[string]any{"sku": "SKU-1", "qty": 1, "condition": "DAMAGED", "disposition": "RECYCLE"},
	}}
	if status := ct.clerk.do("POST", "/api/instore-returns", body, &got); status != http.StatusCreated {
		t.Fatalf("in-store return: %d", status)
	}
	if got.Instore.Tracking != s10(101) || got.Instore.Operator == "" || got.Instore.Resolution != "EXCHANGE" || len(got.Instore.Items) != 2 || got.Instore.Items[1].Name != "Pull" {
		t.Errorf("in-store return: %+v", got.Instore)
	}
	var e apiError
	status := ct.clerk.do("POST", "/api/instore-returns", body, &e)
	wantError(t, "second time", status, e, http.StatusUnprocessableEntity, string(edge.Duplicate))
	status = ct.clerk.do("POST", "/api/deposits", map[string]any{"code": code, "weight_g": 500}, &e)
	wantError(t, "deposit after the in-store return", status, e, http.StatusUnprocessableEntity, string(edge.Duplicate))
}

func mustKey(t *testing.T) token.Key {
	k, err := token.GenerateKey("issuer-stranger")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCounterCancel(t *testing.T) {
	ct := newCounterTerminal(t, "term-counter-cancel")
	first := ct.deposit(t, ct.ra(t, s10(201), "DEMO"))
	second := ct.deposit(t, ct.ra(t, s10(202), "DEMO"))
	third := ct.deposit(t, ct.ra(t, s10(203), "DEMO"))

	var got struct {
		Cancellation struct {
			DepositID string `json:"deposit_id"`
			Tracking  string `json:"tracking"`
			Operator  string `json:"operator"`
			Reason    string `json:"reason"`
		} `json:"cancellation"`
	}
	if code := ct.clerk.do("POST", "/api/deposits/"+first.Deposit.ID+"/cancel", map[string]string{"reason": "wrong parcel"}, &got); code != http.StatusOK {
		t.Fatalf("cancel within grace: %d", code)
	}
	if got.Cancellation.DepositID != first.Deposit.ID || got.Cancellation.Tracking != s10(201) || got.Cancellation.Operator == "" {
		t.Errorf("cancellation %+v", got)
	}
	var e apiError
	code := ct.clerk.do("POST", "/api/deposits/"+first.Deposit.ID+"/cancel", nil, &e)
	wantError(t, "cancel twice", code, e, http.StatusConflict, edge.ECANCELLED)
	code = ct.clerk.do("POST", "/api/deposits/"+edge.NewID()+"/cancel", nil, &e)
	wantError(t, "unknown deposit", code, e, http.StatusNotFound, edge.ENOTFOUND)

	ct.later(16 * time.Minute)
	code = ct.clerk.do("POST", "/api/deposits/"+second.Deposit.ID+"/cancel", nil, &e)
	wantError(t, "clerk after grace", code, e, http.StatusForbidden, edge.EFORBIDDEN)
	if code := ct.manager.do("POST", "/api/deposits/"+second.Deposit.ID+"/cancel", map[string]string{"reason": "customer came back"}, nil); code != http.StatusOK {
		t.Errorf("manager after grace: %d", code)
	}
	if code := ct.clerk.do("POST", "/api/handovers", map[string]any{"trackings": []string{s10(203)}}, nil); code != http.StatusCreated {
		t.Fatalf("handover: %d", code)
	}
	code = ct.manager.do("POST", "/api/deposits/"+third.Deposit.ID+"/cancel", nil, &e)
	wantError(t, "after handover", code, e, http.StatusConflict, edge.EHANDEDOVER)
	if s := ct.shelf(t, ""); s.Count != 0 {
		t.Errorf("shelf after cancels and handover: %v", s.trackings())
	}
}

func TestCounterShelfAndHandover(t *testing.T) {
	ct := newCounterTerminal(t, "term-counter-shelf", func(c *Config) {
		c.Rules.ShelfCapacity, c.Rules.HoldTime = 5, 24*time.Hour
	})
	for i, carrier := range []string{"DEMO", "DEMO", "COLI", "DEMO"} {
		ct.deposit(t, ct.ra(t, s10(300+i), carrier))
	}
	s := ct.shelf(t, "")
	if s.Count != 4 || s.Capacity != 5 || s.State != "ok" || s.Carriers["DEMO"] != 3 || s.Parcels[0].Slot != "001" || s.Parcels[0].Carrier != "DEMO" || s.Parcels[0].Operator == "" {
		t.Errorf("shelf of 4/5: %+v", s)
	}
	ct.deposit(t, ct.ra(t, s10(304), "COLI"))
	if s = ct.shelf(t, ""); s.State != "full" {
		t.Errorf("shelf of 5/5: state %q", s.State)
	}
	var e apiError
	code := ct.clerk.do("POST", "/api/deposits", map[string]any{"code": ct.ra(t, s10(305), "DEMO"), "weight_g": 500}, &e)
	wantError(t, "full shelf", code, e, http.StatusUnprocessableEntity, string(edge.ShelfFull))

	ct.later(25 * time.Hour)
	s = ct.shelf(t, "?carrier=COLI")
	if s.Count != 2 || s.Total != 5 || s.Overdue != 2 || !s.Parcels[0].Overdue || s.Parcels[0].AgeS < 25*3600 {
		t.Errorf("COLI parcels a day later: %+v", s)
	}

	tests := []struct {
		name       string
		body       map[string]any
		wantStatus int
		wantCode   string
	}{
		{"not on the shelf", map[string]any{"trackings": []string{s10(399)}}, 409, edge.ENOTONSHELF},
		{"other carrier", map[string]any{"carrier": "COLI", "trackings": []string{s10(300)}}, 422, edge.EWRONGCARRIER},
		{"both", map[string]any{"all": true, "trackings": []string{s10(300)}}, 400, edge.EINVALID},
		{"nothing", map[string]any{"carrier": "DEMO"}, 400, edge.EINVALID},
	}
	for _, tt := range tests {
		var e apiError
		code := ct.clerk.do("POST", "/api/handovers", tt.body, &e)
		wantError(t, tt.name, code, e, tt.wantStatus, tt.wantCode)
	}

	type manifest struct {
		ID        string   `json:"id"`
		Carrier   string   `json:"carrier"`
		Count     int      `json:"count"`
		Trackings []string `json:"trackings"`
		PrintJob  string   `json:"print_job"`
		ESCPOSURL string   `json:"escpos_url"`
	}
	var h struct {
		Manifests []manifest `json:"manifests"`
	}
	if code := ct.clerk.do("POST", "/api/handovers", map[string]any{"carrier": "DEMO", "trackings": []string{s10(300), s10(303)}, "driver_ref": "van 7"}, &h); code != http.StatusCreated {
		t.Fatalf("handover of two: %d", code)
	}
	if len(h.Manifests) != 1 || h.Manifests[0].Count != 2 || h.Manifests[0].ESCPOSURL == "" {
		t.Fatalf("manifests %+v", h.Manifests)
	}
	var printed []byte
	if code := ct.clerk.do("GET", h.Manifests[0].ESCPOSURL, nil, &printed); code != http.StatusOK || !bytes.Contains(printed, []byte(s10(303))) {
		t.Errorf("printed manifest: %d, %d bytes, without %s", code, len(printed), s10(303))
	}
	code = ct.clerk.do("POST", "/api/handovers", map[string]any{"trackings": []string{s10(300)}}, &e)
	wantError(t, "handed over twice", code, e, http.StatusConflict, edge.EHANDEDOVER)

	h.Manifests = nil
	if code := ct.clerk.do("POST", "/api/handovers", map[string]any{"all": true}, &h); code != http.StatusCreated || len(h.Manifests) != 2 {
		t.Fatalf("handover of all: %d %+v", code, h.Manifests)
	}
	if h.Manifests[0].Carrier != "COLI" || h.Manifests[0].Count != 2 || h.Manifests[1].Carrier != "DEMO" || h.Manifests[1].Count != 1 {
		t.Errorf("one manifest per carrier: %+v", h.Manifests)
	}
	if s = ct.shelf(t, ""); s.Count != 0 || s.State != "ok" {
		t.Errorf("shelf after handing over all: %+v", s)
	}
	code = ct.clerk.do("POST", "/api/handovers", map[string]any{"all": true}, &e)
	wantError(t, "all from an empty shelf", code, e, http.StatusConflict, edge.ENOTONSHELF)
}

func TestCounterHistory(t *testing.T) {
	ct := newCounterTerminal(t, "term-counter-history")
	ct.deposit(t, ct.ra(t, s10(401), "DEMO"))
	dup := ct.ra(t, s10(402), "DEMO")
	ct.deposit(t, dup)
	ct.clerk.do("POST", "/api/deposits", map[string]any{"code": dup, "weight_g": 500}, nil)
	ct.clerk.do("POST", "/api/deposits", map[string]any{"code": "nonsense", "weight_g": 500}, nil)
	ct.clerk.do("POST", "/api/handovers", map[string]any{"all": true}, nil)
	ct.clerk.do("POST", "/api/instore-returns", map[string]any{"code": ct.ra(t, s10(403), "DEMO"), "resolution": "STORE_CREDIT",
		"items": []any{map[string]any{"sku": "SKU-2", "qty": 1, "condition": "NEW", "disposition": "RESTOCK"}}}, nil)

	type page struct {
		Operations []edge.Operation `json:"operations"`
		Next       uint64           `json:"next"`
	}
	types := func(p page) []edge.OpType {
		var out []edge.OpType
		for _, op := range p.Operations {
			out = append(out, op.Type)
		}
		return out
	}
	today := time.Now().Format(time.DateOnly)
	tests := []struct {
		query string
		want  []edge.OpType
	}{
		{"?type=return.deposited", []edge.OpType{edge.OpReturnDeposited, edge.OpReturnDeposited}},
		{"?tracking=" + s10(402), []edge.OpType{edge.OpReturnDeposited, edge.OpReturnRefused, edge.OpParcelHandedOver}},
		{"?day=" + today + "&type=manifest.closed", []edge.OpType{edge.OpManifestClosed}},
		{"?day=2001-01-01", nil},
		{"?after=2&limit=2", []edge.OpType{edge.OpReturnRefused, edge.OpReturnRefused}},
	}
	for _, tt := range tests {
		var p page
		if code := ct.clerk.do("GET", "/api/operations"+tt.query, nil, &p); code != http.StatusOK {
			t.Fatalf("%s: %d", tt.query, code)
		}
		if got := types(p); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.query, got, tt.want)
		}
		for _, op := range p.Operations {
			if op.Operator == "" {
				t.Errorf("%s: operation %d records no operator", tt.query, op.Seq)
			}
		}
	}
	for _, bad := range []string{"?type=lost", "?day=24-11-2026", "?limit=0", "?after=x"} {
		var e apiError
		code := ct.clerk.do("GET", "/api/operations"+bad, nil, &e)
		wantError(t, bad, code, e, http.StatusBadRequest, edge.EINVALID)
	}

	var sum edge.DaySummary
	if code := ct.clerk.do("GET", "/api/summary?day="+today, nil, &sum); code != http.StatusOK {
		t.Fatalf("summary: %d", code)
	}
	if sum.Deposits != 2 || sum.HandedOver != 2 || sum.Manifests != 1 || sum.Instore != 1 ||
		sum.Refusals[edge.Duplicate] != 1 || sum.Refusals[edge.UnknownFormat] != 1 || sum.Resolutions[edge.ResolutionStoreCredit] != 1 {
		t.Errorf("summary: %+v", sum)
	}
	var closed struct {
		Summary edge.DaySummary `json:"summary"`
		Seq     uint64          `json:"seq"`
	}
	if code := ct.manager.do("POST", "/api/days/"+today+"/close", nil, &closed); code != http.StatusCreated || closed.Summary.Deposits != 2 || closed.Seq == 0 {
		t.Errorf("close day: %d %+v", code, closed)
	}
	var p page
	ct.clerk.do("GET", "/api/operations?type=day.closed", nil, &p)
	if len(p.Operations) != 1 || p.Operations[0].Seq != closed.Seq {
		t.Errorf("day.closed journalled: %+v", p.Operations)
	}
}

func TestStaffCommands(t *testing.T) {
	dir := t.TempDir()
	offlineTerminal(t, dir, "term-staff-cli", token.NewTrustList())
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"staff", "add", "--data", dir, "--name", "Paul", "--role", "manager", "--pin", "864200"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"staff", "add", "--data", dir, "--name", "Léa", "--role", "clerk", "--pin", "864200"}, &out, &out); err == nil || !strings.Contains(err.Error(), "PIN is taken") {
		t.Errorf("second account with the same PIN: %v", err)
	}
	if err := run(ctx, []string{"staff", "add", "--data", dir, "--name", "Léa", "--role", "clerk", "--pin", "12"}, &out, &out); err == nil {
		t.Error("a two-digit PIN was accepted")
	}
	if err := run(ctx, []string{"staff", "add", "--data", dir, "--name", "Léa", "--role", "clerk", "--pin", "7531"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"staff", "disable", "--data", dir, "--id", "Paul"}, &out, &out); err == nil || !strings.Contains(err.Error(), "last manager") {
		t.Errorf("disable the last manager: %v", err)
	}
	if err := run(ctx, []string{"staff", "disable", "--data", dir, "--id", "Léa"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"staff", "list", "--data", dir}, &out, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(out.String(), "Paul") || !strings.Contains(lines[2], "disabled") || strings.Contains(out.String(), "$2") {
		t.Errorf("staff list:\n%s", out.String())
	}
	if err := run(ctx, []string{"staff", "fire", "--data", dir}, &out, &out); err == nil {
		t.Error("unknown staff command accepted")
	}

	// The PINs are bcrypt hashes, and the terminal signs them in.
	_, kiosk := startTerminalPIN(t, dir, "864200")
	if code := kiosk.do("GET", "/api/staff", nil, nil); code != http.StatusOK {
		t.Errorf("manager from the CLI: GET /api/staff %d", code)
	}
	// With the terminal running, the journal is locked: say what to do.
	err := run(ctx, []string{"staff", "list", "--data", dir}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "in use by a running comptoir-edge: stop it first") {
		t.Errorf("staff list on a running terminal: %v, want advice to stop it", err)
	}
}

// startTerminalPIN starts a terminal without demo staff and signs in with pin.
func startTerminalPIN(t *testing.T, dir, pin string) (*Main, *client) {
	t.Helper()
	m := NewMain()
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	m.Config.DataDir, m.Config.HTTPAddr = dir, "127.0.0.1:0"
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	c := newClient(t, m.URL())
	if code := c.do("POST", "/api/session", map[string]string{"pin": pin}, nil); code != http.StatusCreated {
		t.Fatalf("sign in with %s: %d", pin, code)
	}
	return m, c
}
