package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
	"github.com/comptoir/comptoir/edge/journal"
	"github.com/comptoir/comptoir/edge/journal/journaltest"
	"github.com/comptoir/comptoir/edge/journal/mem"
)

// The counter's use cases run here against the journal in memory, which
// passes the same contract suite as the Badger one (benchmarks of durable
// writes use Badger); only the code reader, the receipt signer and the
// renderer are stand-ins, since scanner and printer have their own tests.

// codes is a CodeReader that knows a fixed set of texts.
type codes map[string]edge.Code

func (c codes) Read(_ context.Context, text string) (edge.Code, error) {
	code, ok := c[text]
	if !ok {
		return edge.Code{}, edge.Refuse(edge.UnknownFormat, "unknown")
	}
	if code.Kind == "expired" {
		code.Kind = edge.KindReturn
		return code, edge.Refuse(edge.Expired, "expired")
	}
	return code, nil
}

type signer struct{}

func (signer) SignReceipt(r edge.Receipt) (string, error) { return "receipt-" + r.ID, nil }

// renderer renders documents as short texts, manifests included.
type renderer struct{}

func (renderer) Label(l edge.Label) ([]byte, error) { return []byte("ZPL " + l.Tracking), nil }
func (renderer) Receipt(r edge.ReceiptDoc) ([]byte, error) {
	return []byte("ESCPOS " + r.Tracking), nil
}
func (renderer) Manifest(m edge.ManifestDoc) ([]byte, error) {
	return fmt.Appendf(nil, "MANIFEST %s %s %v", m.ManifestID, m.Carrier, m.Trackings), nil
}

// counter is a Desk on a journal with a clock the test moves.
type counter struct {
	desk *edge.Desk
	j    journaltest.Journal
	now  time.Time
}

// newCounter returns a counter on a journal in memory (edge/journal/mem,
// which passes the Badger journal's contract suite): the use cases do not
// test the disk, and without it the package's tests take a fifth of the
// time (1.6 s against 9.2 s, medians of 3 on a loaded machine).
func newCounter(tb testing.TB, mod func(*edge.Rules)) *counter {
	tb.Helper()
	return newCounterOn(tb, mem.New("t-counter"), mod)
}

// newDiskCounter returns a counter on the Badger journal in a temp dir,
// for what measures durable writes.
func newDiskCounter(tb testing.TB, mod func(*edge.Rules)) *counter {
	tb.Helper()
	j, err := journal.Open(tb.TempDir(), journal.Config{Terminal: "t-counter", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { j.Close() })
	return newCounterOn(tb, j, mod)
}

func newCounterOn(tb testing.TB, j journaltest.Journal, mod func(*edge.Rules)) *counter {
	tb.Helper()
	rules := edge.DefaultRules()
	if mod != nil {
		mod(&rules)
	}
	c := &counter{j: j, now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	c.desk = edge.NewDesk(rules)
	c.desk.Journal, c.desk.Signer, c.desk.Renderer = j, signer{}, renderer{}
	c.desk.RelayPoint = edge.RelayPoint{ID: "rp-1", Name: "Relais"}
	c.desk.Now = func() time.Time { return c.now }
	c.desk.Codes = testCodes
	return c
}

// testCodes: "ra-N" are RAs of tracking TRK-N (carrier DEMO, or COLI for
// N >= 50), "trk-N" tracking barcodes, "ra-exp" an expired RA.
var testCodes = func() codes {
	c := codes{}
	for n := range 100 {
		carrier := "DEMO"
		if n >= 50 {
			carrier = "COLI"
		}
		trk := fmt.Sprintf("TRK-%d", n)
		c[fmt.Sprintf("ra-%d", n)] = edge.Code{
			Kind: edge.KindReturn, Tracking: trk, Carrier: carrier, Verified: true, Mode: edge.ModeLabelAtCounter,
			RA: &edge.ReturnAuthorisation{
				ID: fmt.Sprintf("ra-id-%d", n), Issuer: "shop", Tracking: trk, Carrier: carrier,
				Items: []edge.Item{{SKU: "SKU-A", Name: "Pull", Qty: 2, Reason: edge.ReasonWrongSize}, {SKU: "SKU-B", Qty: 1}},
			},
		}
		c[fmt.Sprintf("trk-%d", n)] = edge.Code{Kind: edge.KindTracking, Tracking: fmt.Sprintf("BAR-%d", n), Carrier: carrier, Mode: edge.ModePrelabelled}
	}
	c["ra-exp"] = edge.Code{Kind: "expired", Tracking: "TRK-EXP", Verified: true, RA: &edge.ReturnAuthorisation{ID: "ra-id-exp"}}
	return c
}()

func (c *counter) deposit(tb testing.TB, code string) edge.Deposit {
	tb.Helper()
	dep, err := c.desk.Deposit(context.Background(), edge.DepositRequest{Code: code, WeightG: 900, Operator: "clerk-1"})
	if err != nil {
		tb.Fatalf("deposit %s: %v", code, err)
	}
	return dep
}

func (c *counter) shelfTrackings(tb testing.TB) []string {
	tb.Helper()
	v, err := c.desk.Shelf(context.Background(), "")
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, p := range v.Parcels {
		out = append(out, p.Tracking)
	}
	return out
}

func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := edge.ErrorCode(err); got != code {
		tb.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if code != "" && edge.ErrorMessage(err) == "Internal error." {
		tb.Errorf("error %q has no message for the clerk", code)
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(*counter) string // returns the deposit id to cancel
		role  string
		after time.Duration
		want  string
	}{
		{"clerk within the grace window", func(c *counter) string { return c.deposit(t, "ra-1").Operation.ID }, edge.RoleClerk, 14 * time.Minute, ""},
		{"clerk after the grace window", func(c *counter) string { return c.deposit(t, "ra-1").Operation.ID }, edge.RoleClerk, 16 * time.Minute, edge.EFORBIDDEN},
		{"manager after the grace window", func(c *counter) string { return c.deposit(t, "ra-1").Operation.ID }, edge.RoleManager, 48 * time.Hour, ""},
		{"unknown deposit", func(c *counter) string { return edge.NewID() }, edge.RoleManager, 0, edge.ENOTFOUND},
		{"no deposit id", func(c *counter) string { return "" }, edge.RoleManager, 0, edge.EINVALID},
		{"twice", func(c *counter) string {
			id := c.deposit(t, "ra-1").Operation.ID
			if _, err := c.desk.Cancel(ctx, edge.CancelRequest{DepositID: id, Operator: "clerk-1"}); err != nil {
				t.Fatal(err)
			}
			return id
		}, edge.RoleManager, 0, edge.ECANCELLED},
		{"after handover, even by a manager", func(c *counter) string {
			id := c.deposit(t, "ra-1").Operation.ID
			if _, err := c.desk.Handover(ctx, edge.HandoverRequest{Trackings: []string{"TRK-1"}, Operator: "clerk-1"}); err != nil {
				t.Fatal(err)
			}
			return id
		}, edge.RoleManager, 0, edge.EHANDEDOVER},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter(t, nil)
			id := tt.setup(c)
			before := c.j.LastSeq()
			c.now = c.now.Add(tt.after)
			got, err := c.desk.Cancel(ctx, edge.CancelRequest{DepositID: id, Reason: "wrong parcel", Operator: "op-9", Role: tt.role})
			wantCode(t, err, tt.want)
			if tt.want != "" {
				if c.j.LastSeq() != before {
					t.Errorf("a refused cancellation journalled something")
				}
				return
			}
			if got.Operation.Type != edge.OpReturnCancelled || got.Operation.Operator != "op-9" || got.Operation.Tracking != "TRK-1" || got.Data.DepositID != id {
				t.Errorf("cancellation %+v", got)
			}
			if s := c.shelfTrackings(t); len(s) != 0 {
				t.Errorf("shelf after cancel: %v, want empty", s)
			}
			rec, err := c.j.DepositByID(ctx, id)
			if err != nil || rec.State != edge.DepositCancelled || rec.ClosedSeq != got.Operation.Seq {
				t.Errorf("deposit record %+v, %v", rec, err)
			}
			// The slot is free again and the parcel may be deposited anew.
			if dep := c.deposit(t, "ra-1"); dep.Data.ShelfSlot != "001" {
				t.Errorf("slot after cancel %q, want 001", dep.Data.ShelfSlot)
			}
		})
	}
}

func TestInstore(t *testing.T) {
	ctx := context.Background()
	good := []edge.InstoreItem{{SKU: "SKU-A", Qty: 2, Condition: edge.ConditionOpened, Disposition: edge.DispositionRestock}}
	tests := []struct {
		name       string
		setup      func(*counter)
		code       string
		items      []edge.InstoreItem
		resolution edge.Resolution
		want       string
		journalled bool // a refusal that is journalled as return.refused
	}{
		{"refund", nil, "ra-1", good, edge.ResolutionRefund, "", false},
		{"exchange, one SKU in two conditions", nil, "ra-1", []edge.InstoreItem{
			{SKU: "SKU-A", Qty: 1, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock},
			{SKU: "SKU-A", Qty: 1, Condition: edge.ConditionDefective, Disposition: edge.DispositionReturnToVendor},
			{SKU: "SKU-B", Qty: 1, Condition: edge.ConditionDamaged, Disposition: edge.DispositionRecycle},
		}, edge.ResolutionExchange, "", false},
		{"store credit", nil, "ra-2", good, edge.ResolutionStoreCredit, "", false},
		{"item not in the RA", nil, "ra-1", []edge.InstoreItem{{SKU: "SKU-Z", Qty: 1, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock}}, edge.ResolutionRefund, edge.EITEMNOTINRA, false},
		{"above the RA's quantity", nil, "ra-1", []edge.InstoreItem{{SKU: "SKU-B", Qty: 2, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock}}, edge.ResolutionRefund, edge.EQTYABOVERA, false},
		{"above the quantity over two lines", nil, "ra-1", []edge.InstoreItem{
			{SKU: "SKU-A", Qty: 2, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock},
			{SKU: "SKU-A", Qty: 1, Condition: edge.ConditionDamaged, Disposition: edge.DispositionDestroy},
		}, edge.ResolutionRefund, edge.EQTYABOVERA, false},
		{"unknown condition", nil, "ra-1", []edge.InstoreItem{{SKU: "SKU-A", Qty: 1, Condition: "USED", Disposition: edge.DispositionRestock}}, edge.ResolutionRefund, edge.EINVALID, false},
		{"unknown disposition", nil, "ra-1", []edge.InstoreItem{{SKU: "SKU-A", Qty: 1, Condition: edge.ConditionNew, Disposition: "SELL"}}, edge.ResolutionRefund, edge.EINVALID, false},
		{"unknown resolution", nil, "ra-1", good, "CASH", edge.EINVALID, false},
		{"no items", nil, "ra-1", nil, edge.ResolutionRefund, edge.EINVALID, false},
		{"zero quantity", nil, "ra-1", []edge.InstoreItem{{SKU: "SKU-A", Qty: 0, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock}}, edge.ResolutionRefund, edge.EINVALID, false},
		{"tracking barcode without RA", nil, "trk-1", good, edge.ResolutionRefund, edge.ERAREQUIRED, false},
		{"expired RA", nil, "ra-exp", good, edge.ResolutionRefund, string(edge.Expired), true},
		{"unreadable code", nil, "what?", good, edge.ResolutionRefund, string(edge.UnknownFormat), true},
		{"received twice", func(c *counter) {
			if _, err := c.desk.ReceiveInstore(ctx, edge.InstoreRequest{Code: "ra-1", Items: good, Resolution: edge.ResolutionRefund}); err != nil {
				t.Fatal(err)
			}
		}, "ra-1", good, edge.ResolutionRefund, string(edge.Duplicate), true},
		{"deposited at the counter already", func(c *counter) { c.deposit(t, "ra-1") }, "ra-1", good, edge.ResolutionRefund, string(edge.Duplicate), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter(t, nil)
			if tt.setup != nil {
				tt.setup(c)
			}
			before := c.j.LastSeq()
			got, err := c.desk.ReceiveInstore(ctx, edge.InstoreRequest{Code: tt.code, Items: tt.items, Resolution: tt.resolution, Operator: "clerk-7"})
			wantCode(t, err, tt.want)
			if tt.want != "" {
				page, _ := c.j.History(ctx, edge.HistoryQuery{After: before})
				switch {
				case tt.journalled && (len(page.Operations) != 1 || page.Operations[0].Type != edge.OpReturnRefused):
					t.Errorf("refusal journalled as %+v, want one return.refused", page.Operations)
				case !tt.journalled && len(page.Operations) != 0:
					t.Errorf("a correctable mistake journalled %+v", page.Operations)
				}
				return
			}
			op := got.Operation
			if op.Type != edge.OpInstoreReceived || op.Operator != "clerk-7" || op.Tracking == "" || got.Data.Resolution != tt.resolution {
				t.Errorf("operation %+v", op)
			}
			var data edge.InstoreData
			if err := json.Unmarshal(op.Data, &data); err != nil || data.RAID == "" || len(data.Items) != len(tt.items) {
				t.Fatalf("journalled data %s: %v", op.Data, err)
			}
			if data.Items[0].Name == "" && data.Items[0].SKU == "SKU-A" {
				t.Errorf("item name not taken from the RA: %+v", data.Items[0])
			}
			if s := c.shelfTrackings(t); len(s) != 0 {
				t.Errorf("an in-store return went on the shelf: %v", s)
			}
		})
	}
}

func TestHandover(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		deposit []string
		setup   func(*counter)
		req     edge.HandoverRequest
		want    string
		// manifests maps carrier to the trackings its manifest lists.
		manifests map[string][]string
		left      []string // on the shelf afterwards
	}{
		{"scanned parcels", []string{"ra-1", "ra-2", "ra-3"}, nil,
			edge.HandoverRequest{Trackings: []string{"TRK-1", "TRK-3", "TRK-1"}},
			"", map[string][]string{"DEMO": {"TRK-1", "TRK-3"}}, []string{"TRK-2"}},
		{"all of one carrier", []string{"ra-1", "ra-60", "trk-2", "ra-61"}, nil,
			edge.HandoverRequest{Carrier: "COLI", All: true},
			"", map[string][]string{"COLI": {"TRK-60", "TRK-61"}}, []string{"TRK-1", "BAR-2"}},
		{"all, one manifest per carrier", []string{"ra-1", "ra-60"}, nil,
			edge.HandoverRequest{All: true},
			"", map[string][]string{"DEMO": {"TRK-1"}, "COLI": {"TRK-60"}}, nil},
		{"twice", []string{"ra-1"}, func(c *counter) {
			if _, err := c.desk.Handover(ctx, edge.HandoverRequest{Trackings: []string{"TRK-1"}}); err != nil {
				t.Fatal(err)
			}
		}, edge.HandoverRequest{Trackings: []string{"TRK-1"}}, edge.EHANDEDOVER, nil, nil},
		{"all twice", []string{"ra-1"}, func(c *counter) {
			if _, err := c.desk.Handover(ctx, edge.HandoverRequest{All: true}); err != nil {
				t.Fatal(err)
			}
		}, edge.HandoverRequest{All: true}, edge.ENOTONSHELF, nil, nil},
		{"not on the shelf", []string{"ra-1"}, nil, edge.HandoverRequest{Trackings: []string{"TRK-1", "TRK-9"}}, edge.ENOTONSHELF, nil, []string{"TRK-1"}},
		{"cancelled parcel", []string{"ra-1"}, func(c *counter) {
			rec, _, _ := c.j.DepositByTracking(ctx, "TRK-1")
			if _, err := c.desk.Cancel(ctx, edge.CancelRequest{DepositID: rec.Parcel.DepositID}); err != nil {
				t.Fatal(err)
			}
		}, edge.HandoverRequest{Trackings: []string{"TRK-1"}}, edge.ENOTONSHELF, nil, nil},
		{"another carrier's parcel", []string{"ra-1", "ra-60"}, nil, edge.HandoverRequest{Carrier: "DEMO", Trackings: []string{"TRK-1", "TRK-60"}}, edge.EWRONGCARRIER, nil, []string{"TRK-1", "TRK-60"}},
		{"mixed carriers scanned", []string{"ra-1", "ra-60"}, nil, edge.HandoverRequest{Trackings: []string{"TRK-60", "TRK-1"}}, edge.EWRONGCARRIER, nil, []string{"TRK-1", "TRK-60"}},
		{"empty shelf", nil, nil, edge.HandoverRequest{All: true}, edge.ENOTONSHELF, nil, nil},
		{"no carrier parcels", []string{"ra-1"}, nil, edge.HandoverRequest{Carrier: "COLI", All: true}, edge.ENOTONSHELF, nil, []string{"TRK-1"}},
		{"both all and trackings", []string{"ra-1"}, nil, edge.HandoverRequest{All: true, Trackings: []string{"TRK-1"}}, edge.EINVALID, nil, []string{"TRK-1"}},
		{"nothing", []string{"ra-1"}, nil, edge.HandoverRequest{}, edge.EINVALID, nil, []string{"TRK-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCounter(t, nil)
			for _, code := range tt.deposit {
				c.deposit(t, code)
			}
			if tt.setup != nil {
				tt.setup(c)
			}
			before := c.j.LastSeq()
			tt.req.Operator, tt.req.DriverRef = "clerk-2", "van 12"
			got, err := c.desk.Handover(ctx, tt.req)
			wantCode(t, err, tt.want)
			if s := c.shelfTrackings(t); !slices.Equal(s, tt.left) {
				t.Errorf("shelf %v, want %v", s, tt.left)
			}
			if tt.want != "" {
				if c.j.LastSeq() != before {
					t.Errorf("a refused handover journalled something")
				}
				return
			}
			if len(got.Manifests) != len(tt.manifests) {
				t.Fatalf("manifests %+v, want %v", got.Manifests, tt.manifests)
			}
			page, _ := c.j.History(ctx, edge.HistoryQuery{After: before})
			handed := map[string]string{} // tracking -> manifest id
			for _, op := range page.Operations {
				if op.Type == edge.OpParcelHandedOver {
					var d edge.HandedOverData
					json.Unmarshal(op.Data, &d)
					if op.Operator != "clerk-2" || d.DriverRef != "van 12" {
						t.Errorf("handed over %+v %s", op, op.Data)
					}
					handed[op.Tracking] = d.ManifestID
				}
			}
			for _, m := range got.Manifests {
				want := tt.manifests[m.Carrier]
				if !slices.Equal(m.Trackings, want) {
					t.Errorf("manifest of %s: %v, want %v", m.Carrier, m.Trackings, want)
				}
				var md edge.ManifestData
				json.Unmarshal(m.Operation.Data, &md)
				if m.Operation.Type != edge.OpManifestClosed || md.Count != len(want) || md.ManifestID != m.ID {
					t.Errorf("manifest.closed %+v %s", m.Operation, m.Operation.Data)
				}
				for _, trk := range want {
					if handed[trk] != m.ID {
						t.Errorf("%s handed over with manifest %q, want %q", trk, handed[trk], m.ID)
					}
				}
				job, err := c.j.PrintJob(ctx, m.PrintJob)
				if err != nil || job.Printer != edge.PrinterReceipt || job.OperationID != m.Operation.ID || string(job.Data[:8]) != "MANIFEST" {
					t.Errorf("manifest print job %+v: %v", job, err)
				}
			}
		})
	}
}

func TestShelfView(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, func(r *edge.Rules) { r.ShelfCapacity, r.HoldTime = 10, 48*time.Hour })
	start := c.now
	for i := range 8 {
		c.deposit(t, fmt.Sprintf("ra-%d", 48+i)) // 2 DEMO then 6 COLI
		c.now = c.now.Add(time.Hour)
	}
	v, err := c.desk.Shelf(ctx, "")
	if err != nil || v.State != edge.ShelfOK || v.Count != 8 || v.Capacity != 10 || v.Overdue != 0 {
		t.Fatalf("shelf at 8/10: %+v, %v", v, err)
	}
	c.deposit(t, "ra-60")
	if v, _ = c.desk.Shelf(ctx, ""); v.State != edge.ShelfWarning {
		t.Errorf("shelf at 9/10: state %q, want warning", v.State)
	}
	c.deposit(t, "ra-61")
	if v, _ = c.desk.Shelf(ctx, ""); v.State != edge.ShelfFullState {
		t.Errorf("shelf at 10/10: state %q, want full", v.State)
	}
	_, err = c.desk.Deposit(ctx, edge.DepositRequest{Code: "ra-62", WeightG: 100})
	wantCode(t, err, string(edge.ShelfFull))

	c.now = start.Add(49*time.Hour + 30*time.Minute) // the first two are past the hold time
	v, _ = c.desk.Shelf(ctx, "DEMO")
	if v.Count != 2 || v.Total != 10 || v.Carriers["COLI"] != 8 || v.Overdue != 2 || !v.Parcels[0].Overdue {
		t.Errorf("DEMO parcels: %+v", v)
	}
	if p := v.Parcels[0]; p.Slot != "001" || p.AgeS != (49*time.Hour+30*time.Minute).Seconds() || p.Carrier != "DEMO" {
		t.Errorf("first parcel %+v", p)
	}
	if v.Parcels[1].Overdue != true {
		t.Errorf("second parcel at 48h30 not overdue")
	}
}

func TestHistoryAndDaySummary(t *testing.T) {
	ctx := context.Background()
	c := newCounter(t, nil)
	day1 := c.now
	c.deposit(t, "ra-1")
	c.deposit(t, "ra-2")
	c.desk.Deposit(ctx, edge.DepositRequest{Code: "ra-exp", WeightG: 100, Operator: "clerk-1"})
	c.desk.Deposit(ctx, edge.DepositRequest{Code: "ra-1", WeightG: 100, Operator: "clerk-1"})
	if _, err := c.desk.Handover(ctx, edge.HandoverRequest{Trackings: []string{"TRK-1"}, Operator: "clerk-2"}); err != nil {
		t.Fatal(err)
	}
	c.now = day1.Add(24 * time.Hour)
	c.deposit(t, "ra-3")
	if _, err := c.desk.ReceiveInstore(ctx, edge.InstoreRequest{Code: "ra-4", Resolution: edge.ResolutionExchange, Operator: "clerk-2",
		Items: []edge.InstoreItem{{SKU: "SKU-B", Qty: 1, Condition: edge.ConditionNew, Disposition: edge.DispositionRestock}}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		q    edge.HistoryQuery
		want []edge.OpType
	}{
		{"all", edge.HistoryQuery{}, []edge.OpType{edge.OpReturnDeposited, edge.OpReturnDeposited, edge.OpReturnRefused, edge.OpReturnRefused, edge.OpParcelHandedOver, edge.OpManifestClosed, edge.OpReturnDeposited, edge.OpInstoreReceived}},
		{"by type", edge.HistoryQuery{Type: edge.OpReturnDeposited}, []edge.OpType{edge.OpReturnDeposited, edge.OpReturnDeposited, edge.OpReturnDeposited}},
		{"by tracking", edge.HistoryQuery{Tracking: "TRK-1"}, []edge.OpType{edge.OpReturnDeposited, edge.OpReturnRefused, edge.OpParcelHandedOver}},
		{"by day", edge.HistoryQuery{From: day1.Add(24 * time.Hour), To: day1.Add(48 * time.Hour)}, []edge.OpType{edge.OpReturnDeposited, edge.OpInstoreReceived}},
		{"paged", edge.HistoryQuery{After: 2, Limit: 3}, []edge.OpType{edge.OpReturnRefused, edge.OpReturnRefused, edge.OpParcelHandedOver}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := c.desk.History(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []edge.OpType
			for _, op := range page.Operations {
				got = append(got, op.Type)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if tt.q.Limit > 0 && page.Next != 5 {
				t.Errorf("next %d, want 5", page.Next)
			}
		})
	}
	_, err := c.desk.History(ctx, edge.HistoryQuery{Type: "return.lost"})
	wantCode(t, err, edge.EINVALID)

	s, err := c.desk.DaySummary(ctx, "2026-11-24", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if s.Deposits != 2 || s.HandedOver != 1 || s.Manifests != 1 || s.Instore != 0 ||
		s.Refusals[edge.Expired] != 1 || s.Refusals[edge.Duplicate] != 1 || s.Operators["clerk-2"] != 2 {
		t.Errorf("summary of day 1: %+v", s)
	}
	s, _ = c.desk.DaySummary(ctx, "2026-11-25", time.UTC)
	if s.Deposits != 1 || s.Instore != 1 || s.Resolutions[edge.ResolutionExchange] != 1 || len(s.Refusals) != 0 {
		t.Errorf("summary of day 2: %+v", s)
	}
	_, err = c.desk.DaySummary(ctx, "24/11/2026", time.UTC)
	wantCode(t, err, edge.EINVALID)
}
