package journal

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// filesWith lists the files under dir that contain s.
func filesWith(tb testing.TB, dir, s string) []string {
	tb.Helper()
	return found(tb, dir, secrets{[]byte(s)})
}

// scrubReturn appends a deposit of tracking whose item is named item, with
// a label naming address and a receipt holding token.
func scrubReturn(tb testing.TB, j *Journal, tracking, item, address, token string) edge.Operation {
	tb.Helper()
	op := edge.NewOperation(edge.OpReturnDeposited, t0, "clerk-1", tracking, edge.DepositData{
		RAID: "ra-" + tracking, Carrier: "colis", Mode: "label_at_counter", WeightG: 900,
		ReceiptID: "r-" + tracking, ShelfSlot: tracking[len(tracking)-4:],
		Items: []edge.Item{{SKU: "SKU-9", Name: item, Qty: 1, Reason: "WRONG_SIZE"}},
	})
	op.ID = "dep-" + tracking
	label := edge.PrintJob{ID: "lbl-" + tracking, OperationID: op.ID, Printer: edge.PrinterLabel, Format: edge.FormatZPL,
		Data: []byte("^XA^FD" + address + "^FS^XZ"), State: edge.JobPending, CreatedAt: t0, UpdatedAt: t0}
	receipt := edge.PrintJob{ID: "rcp-" + tracking, OperationID: op.ID, Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS,
		Data: []byte("\x1b@" + token), State: edge.JobPending, CreatedAt: t0, UpdatedAt: t0}
	return MustAppend(tb, j, op, label, receipt)
}

// TestScrubAfterHandover erases the personal data of returns that ended
// before the cutoff (handed over or cancelled, and an in-store return)
// from the journal's values and its files, and keeps their skeleton, the
// counts, the returns still on the shelf and whatever the cloud has not
// acked.
func TestScrubAfterHandover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := MustOpen(t, dir, Config{})
	gone := []string{"Pull angora mauve", "12 rue des Entrepots", "eyJ0b2tlbi1B", "Robe vichy", "Mme Martin a change d'avis", "Veste velours"}
	kept := []string{"Robe lin ocre", "Chemise unacked"}

	handed := scrubReturn(t, j, "ZA000000001FR", gone[0], gone[1], gone[2])
	MustAppend(t, j, handoverOp("ZA000000001FR"))
	cancelled := scrubReturn(t, j, "ZA000000002FR", gone[3], "1 quai du Port", "eyJ0b2tlbi1C")
	MustAppend(t, j, edge.NewOperation(edge.OpReturnCancelled, t0, "clerk-1", "ZA000000002FR", edge.CancelledData{DepositID: cancelled.ID, Reason: gone[4]}))
	instore := MustAppend(t, j, edge.NewOperation(edge.OpInstoreReceived, t0, "clerk-1", "ZA000000003FR", edge.InstoreData{
		RAID: "ra-3", Resolution: edge.ResolutionRefund, Items: []edge.InstoreItem{{SKU: "SKU-3", Name: gone[5], Qty: 1}},
	}))
	onShelf := scrubReturn(t, j, "ZA000000004FR", kept[0], "2 rue Haute", "eyJ0b2tlbi1E")
	unacked := scrubReturn(t, j, "ZA000000005FR", kept[1], "3 rue Basse", "eyJ0b2tlbi1F")
	if err := j.Ack(ctx, 1, unacked.Seq-1); err != nil {
		t.Fatal(err)
	}
	MustAppend(t, j, handoverOp("ZA000000005FR"))
	byTypeBefore, _ := j.Counts()
	for _, s := range append(gone, kept...) {
		if len(filesWith(t, dir, s)) == 0 && versionsWith(t, j, s) == 0 {
			t.Fatalf("%q is nowhere in the journal before the scrub: the test proves nothing", s)
		}
	}

	// Before the retention has passed, nothing is touched.
	if n, err := j.Scrub(ctx, t0.Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("scrub before the end of the returns: %d, %v; want 0", n, err)
	}
	n, err := j.Scrub(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("scrubbed %d operations, want 4 (two deposits, a cancellation, an in-store return)", n)
	}
	for round := range 2 {
		if round == 1 {
			j = reopen(t, j, dir)
		}
		for _, s := range gone {
			if v, f := versionsWith(t, j, s), filesWith(t, dir, s); v != 0 || len(f) != 0 {
				t.Errorf("round %d: %q still in %d versions and in files %v", round, s, v, f)
			}
		}
		for _, s := range kept {
			if versionsWith(t, j, s) == 0 {
				t.Errorf("round %d: %q of a return on the shelf or not acked was erased", round, s)
			}
		}
		if byType, _ := j.Counts(); !equalCounts(byType, byTypeBefore) {
			t.Errorf("round %d: counts %v, want %v", round, byType, byTypeBefore)
		}
		ops, err := j.Operations(ctx, 0, 100)
		if err != nil || len(ops) != int(j.LastSeq()) {
			t.Fatalf("round %d: %d operations, %v; want every one of %d", round, len(ops), err, j.LastSeq())
		}
		for _, op := range ops {
			var data map[string]json.RawMessage
			if err := json.Unmarshal(op.Data, &data); err != nil {
				t.Fatal(err)
			}
			switch op.ID {
			case handed.ID, instore.ID:
				if _, ok := data["items"]; ok || op.Tracking == "" || op.OccurredAt.IsZero() || op.Seq == 0 {
					t.Errorf("round %d: scrubbed %s: %+v %s; want its skeleton without items", round, op.Type, op, op.Data)
				}
			case onShelf.ID:
				if _, ok := data["items"]; !ok {
					t.Errorf("round %d: the deposit on the shelf lost its items", round)
				}
			}
			if op.ID == handed.ID && string(data["ra_id"]) != `"ra-ZA000000001FR"` {
				t.Errorf("round %d: the scrubbed deposit lost its RA id: %s", round, op.Data)
			}
		}
		rec, err := j.DepositByID(ctx, handed.ID)
		if err != nil || !rec.Erased || rec.State != edge.DepositHandedOver || rec.Parcel.Tracking != handed.Tracking {
			t.Errorf("round %d: record of the handed over deposit %+v, %v; want erased, handed over, its tracking", round, rec, err)
		}
		jobs, _ := j.PendingJobs(ctx)
		for _, job := range jobs {
			if job.OperationID == handed.ID || job.OperationID == cancelled.ID {
				t.Errorf("round %d: print job %s of a scrubbed deposit left", round, job.ID)
			}
		}
		if len(jobs) != 4 {
			t.Errorf("round %d: %d print jobs left, want the 4 of the returns kept", round, len(jobs))
		}
	}
	if n, err := j.Scrub(ctx, t0.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("second scrub: %d, %v; want nothing left to scrub", n, err)
	}
}

func equalCounts(a, b map[edge.OpType]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
