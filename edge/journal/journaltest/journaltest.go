// Package journaltest is the contract suite of the terminal's journal: one
// set of tests that every implementation passes (the Badger journal and the
// one in memory), as litestream runs one suite against every replica
// client. An implementation's tests call Run with a function that opens an
// empty journal.
package journaltest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/comptoir/comptoir/edge"
)

// Journal is what the suite tests: the domain's journal, its print queue,
// staff and sign-in stores, the index of applied commands and the last seq.
type Journal interface {
	edge.Journal
	edge.PrintQueue
	edge.StaffStore
	edge.SignInStore
	CommandApplied(ctx context.Context, id string) (bool, error)
	LastSeq() uint64
}

var t0 = time.Date(2026, 11, 22, 10, 15, 3, 0, time.UTC)

func deposit(tracking, raID, slot string) edge.Operation {
	return edge.NewOperation(edge.OpReturnDeposited, t0, "clerk-1", tracking, edge.DepositData{
		RAID: raID, Carrier: "colis", Mode: edge.ModeLabelAtCounter, WeightG: 1200, ReceiptID: "r-" + tracking, ShelfSlot: slot,
	})
}

func mustAppend(t *testing.T, j Journal, op edge.Operation, jobs ...edge.PrintJob) edge.Operation {
	t.Helper()
	got, err := j.Append(context.Background(), op, jobs...)
	if err != nil {
		t.Fatalf("append %s: %v", op.Type, err)
	}
	return got
}

// Run runs the contract suite; open returns an empty journal, closed by
// the test's cleanup.
func Run(t *testing.T, open func(t *testing.T) Journal) {
	ctx := context.Background()

	t.Run("AppendAssignsSeqs", func(t *testing.T) {
		j := open(t)
		var ops []edge.Operation
		for i := range 3 {
			op := edge.NewOperation(edge.OpReturnRefused, t0.Add(time.Duration(i)*time.Second), "clerk-1", "", edge.RefusedData{Reason: edge.Expired})
			if i == 2 {
				op.ID, op.OccurredAt = "", time.Time{}
			}
			ops = append(ops, mustAppend(t, j, op))
		}
		for i, op := range ops {
			if op.Seq != uint64(i+1) || op.ID == "" || op.Terminal == "" || op.Terminal != ops[0].Terminal || op.OccurredAt.Location() != time.UTC {
				t.Errorf("op %d: %+v, want seq %d, an id, the terminal, a UTC time", i, op, i+1)
			}
		}
		if j.LastSeq() != 3 {
			t.Errorf("last seq %d, want 3", j.LastSeq())
		}
	})

	t.Run("AppendRefuses", func(t *testing.T) {
		j := open(t)
		bad := []edge.Operation{
			{Data: []byte(`{}`)},
			{Type: edge.OpParcelHandedOver, Data: []byte(`{"manifest_id":`)},
			{Type: edge.OpReturnDeposited, Data: []byte(`{"weight_g":"heavy"}`)},
		}
		for _, op := range bad {
			if _, err := j.Append(ctx, op); edge.ErrorCode(err) != edge.EINVALID {
				t.Errorf("append %q %s: %v, want INVALID", op.Type, op.Data, err)
			}
		}
		if _, err := j.AppendAll(ctx, []edge.Operation{edge.NewOperation(edge.OpReturnRefused, t0, "", "", edge.RefusedData{Reason: edge.Expired}), bad[1]}); err == nil {
			t.Error("AppendAll with a bad operation: no error")
		}
		if j.LastSeq() != 0 {
			t.Errorf("last seq %d after refusals, want 0", j.LastSeq())
		}
		ops, err := j.AppendAll(ctx, []edge.Operation{edge.NewOperation(edge.OpReturnRefused, t0, "", "", edge.RefusedData{Reason: edge.Expired}),
			edge.NewOperation(edge.OpManifestClosed, t0, "", "", edge.ManifestData{ManifestID: "m-1", Carrier: "colis"})})
		if err != nil || len(ops) != 2 || ops[0].Seq != 1 || ops[1].Seq != 2 {
			t.Errorf("AppendAll: %+v, %v; want seqs 1 and 2", ops, err)
		}
	})

	t.Run("Shelf", func(t *testing.T) {
		j := open(t)
		a := mustAppend(t, j, deposit("TA1", "ra-1", "S1"))
		b := mustAppend(t, j, deposit("TB2", "ra-2", "S2"))
		shelf, err := j.Shelf(ctx)
		if err != nil || len(shelf) != 2 || shelf[0].DepositID != a.ID || shelf[1].DepositID != b.ID || shelf[0].Slot != "S1" || shelf[0].RAID != "ra-1" {
			t.Fatalf("shelf %+v, %v; want a then b", shelf, err)
		}
		if n, err := j.ShelfCount(ctx); err != nil || n != 2 {
			t.Errorf("shelf count %d, %v; want 2", n, err)
		}
		slots, _ := j.ShelfSlots(ctx)
		slices.Sort(slots)
		if !slices.Equal(slots, []string{"S1", "S2"}) {
			t.Errorf("slots %v, want S1 S2", slots)
		}
		if p, ok, err := j.FindDeposit(ctx, "ra-1", ""); !ok || err != nil || p.DepositID != a.ID {
			t.Errorf("find by RA: %+v %v %v", p, ok, err)
		}
		if p, ok, err := j.FindDeposit(ctx, "", "TB2"); !ok || err != nil || p.DepositID != b.ID {
			t.Errorf("find by tracking: %+v %v %v", p, ok, err)
		}
		cancel := mustAppend(t, j, edge.NewOperation(edge.OpReturnCancelled, t0, "clerk-1", "TA1", edge.CancelledData{DepositID: a.ID, Reason: "x"}))
		handover := mustAppend(t, j, edge.NewOperation(edge.OpParcelHandedOver, t0, "clerk-1", "TB2", edge.HandedOverData{ManifestID: "m", Carrier: "colis"}))
		if shelf, _ := j.Shelf(ctx); len(shelf) != 0 {
			t.Errorf("shelf after a cancellation and a handover: %+v", shelf)
		}
		if n, _ := j.ShelfCount(ctx); n != 0 {
			t.Errorf("shelf count after a cancellation and a handover: %d", n)
		}
		if _, ok, _ := j.FindDeposit(ctx, "ra-1", "TA1"); ok {
			t.Error("a cancelled deposit is still found on the shelf")
		}
		if rec, err := j.DepositByID(ctx, a.ID); err != nil || rec.State != edge.DepositCancelled || rec.ClosedSeq != cancel.Seq {
			t.Errorf("record of the cancelled deposit: %+v, %v", rec, err)
		}
		if rec, ok, err := j.DepositByTracking(ctx, "TB2"); !ok || err != nil || rec.State != edge.DepositHandedOver || rec.ClosedSeq != handover.Seq {
			t.Errorf("record of the handed over deposit: %+v, %v, %v", rec, ok, err)
		}
		if _, err := j.DepositByID(ctx, "nope"); edge.ErrorCode(err) != edge.ENOTFOUND {
			t.Errorf("unknown deposit: %v, want NOT_FOUND", err)
		}
		if _, ok, err := j.DepositByTracking(ctx, "NOPE"); ok || err != nil {
			t.Errorf("unknown tracking: found %v, %v", ok, err)
		}
		again := mustAppend(t, j, deposit("TB2", "ra-3", "S1"))
		if rec, ok, _ := j.DepositByTracking(ctx, "TB2"); !ok || rec.Parcel.DepositID != again.ID || rec.State != edge.DepositOnShelf {
			t.Errorf("tracking deposited again: %+v, want the new deposit on the shelf", rec)
		}
	})

	t.Run("InstoreAndCommands", func(t *testing.T) {
		j := open(t)
		mustAppend(t, j, edge.NewOperation(edge.OpInstoreReceived, t0, "clerk-1", "TI", edge.InstoreData{RAID: "ra-9", Resolution: edge.ResolutionRefund}))
		mustAppend(t, j, edge.NewOperation(edge.OpCommandApplied, t0, "", "", edge.CommandData{CommandID: "c-1", Type: edge.CmdPing}))
		for _, tt := range []struct {
			name string
			f    func() (bool, error)
			want bool
		}{
			{"instore ra-9", func() (bool, error) { return j.InstoreReceived(ctx, "ra-9") }, true},
			{"instore ra-8", func() (bool, error) { return j.InstoreReceived(ctx, "ra-8") }, false},
			{"command c-1", func() (bool, error) { return j.CommandApplied(ctx, "c-1") }, true},
			{"command c-2", func() (bool, error) { return j.CommandApplied(ctx, "c-2") }, false},
		} {
			if got, err := tt.f(); got != tt.want || err != nil {
				t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
			}
		}
	})

	t.Run("History", func(t *testing.T) {
		j := open(t)
		for i := range 6 {
			op := deposit("TH"+string(rune('0'+i)), "", "H"+string(rune('0'+i)))
			op.OccurredAt = t0.Add(time.Duration(i) * time.Hour)
			if i%2 == 1 {
				op = edge.NewOperation(edge.OpReturnRefused, op.OccurredAt, "", "", edge.RefusedData{Reason: edge.Expired})
			}
			mustAppend(t, j, op)
		}
		page, err := j.History(ctx, edge.HistoryQuery{Type: edge.OpReturnDeposited, Limit: 2})
		if err != nil || len(page.Operations) != 2 || page.Operations[1].Seq != 3 || page.Next != 3 {
			t.Fatalf("first page: %+v, %v; want seqs 1 and 3, next 3", page, err)
		}
		page, _ = j.History(ctx, edge.HistoryQuery{Type: edge.OpReturnDeposited, Limit: 2, After: page.Next})
		if len(page.Operations) != 1 || page.Operations[0].Seq != 5 || page.Next != 0 {
			t.Errorf("second page: %+v; want seq 5 and no next", page)
		}
		page, _ = j.History(ctx, edge.HistoryQuery{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)})
		if len(page.Operations) != 2 || page.Operations[0].Seq != 2 {
			t.Errorf("from 1 h to 3 h: %+v; want seqs 2 and 3", page)
		}
	})

	t.Run("PrintQueue", func(t *testing.T) {
		j := open(t)
		op := mustAppend(t, j, deposit("TP", "", "P1"),
			edge.PrintJob{Printer: edge.PrinterLabel, Format: edge.FormatZPL, Data: []byte("^XA^XZ")},
			edge.PrintJob{Printer: edge.PrinterReceipt, Format: edge.FormatESCPOS, Data: []byte("\x1b@")})
		jobs, err := j.PendingJobs(ctx)
		if err != nil || len(jobs) != 2 || jobs[0].ID == "" || jobs[0].OperationID != op.ID || jobs[0].State != edge.JobPending || !jobs[0].CreatedAt.Equal(op.OccurredAt) {
			t.Fatalf("pending jobs: %+v, %v; want 2 of the deposit", jobs, err)
		}
		if jobs[0].Data != nil || jobs[1].Data != nil {
			t.Errorf("pending jobs with their data: %q, %q; want none", jobs[0].Data, jobs[1].Data)
		}
		done, err := j.PrintJob(ctx, jobs[0].ID)
		if err != nil || string(done.Data) != "^XA^XZ" {
			t.Fatalf("first pending job: %+v, %v; want the label's data", done, err)
		}
		done.State, done.Attempts = edge.JobDone, 1
		if err := j.PutPrintJob(ctx, done); err != nil {
			t.Fatal(err)
		}
		if left, _ := j.PendingJobs(ctx); len(left) != 1 || left[0].ID != jobs[1].ID {
			t.Errorf("pending after one printed: %+v", left)
		}
		if got, err := j.PrintJob(ctx, done.ID); err != nil || got.State != edge.JobDone || got.Attempts != 1 || string(got.Data) != string(done.Data) {
			t.Errorf("printed job: %+v, %v", got, err)
		}
		if _, err := j.PrintJob(ctx, "nope"); edge.ErrorCode(err) != edge.ENOTFOUND {
			t.Errorf("unknown job: %v, want NOT_FOUND", err)
		}
		if err := j.PutPrintJob(ctx, edge.PrintJob{}); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("job without id: %v, want INVALID", err)
		}
	})

	t.Run("StaffAndSignIn", func(t *testing.T) {
		j := open(t)
		if err := j.PutStaff(ctx, edge.Staff{ID: "s-1", Role: "boss"}); edge.ErrorCode(err) != edge.EINVALID {
			t.Errorf("unknown role: %v, want INVALID", err)
		}
		for _, s := range []edge.Staff{{ID: "s-2", Name: "B", Role: edge.RoleManager}, {ID: "s-1", Name: "A", Role: edge.RoleClerk}} {
			if err := j.PutStaff(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.PutStaff(ctx, edge.Staff{ID: "s-1", Name: "A", Role: edge.RoleClerk, Disabled: true}); err != nil {
			t.Fatal(err)
		}
		staff, err := j.ListStaff(ctx)
		if err != nil || len(staff) != 2 || staff[0].ID != "s-1" || !staff[0].Disabled || staff[1].Role != edge.RoleManager {
			t.Errorf("staff %+v, %v; want s-1 disabled then s-2", staff, err)
		}
		if st, err := j.SignInState(ctx); err != nil || st.Locks != 0 || len(st.Failures) != 0 {
			t.Errorf("first sign-in state %+v, %v; want zero", st, err)
		}
		want := edge.SignInState{Failures: []time.Time{t0}, Locks: 2, LockedUntil: t0.Add(time.Minute)}
		if err := j.PutSignInState(ctx, want); err != nil {
			t.Fatal(err)
		}
		if st, _ := j.SignInState(ctx); st.Locks != 2 || len(st.Failures) != 1 || !st.Failures[0].Equal(t0) || !st.LockedUntil.Equal(want.LockedUntil) {
			t.Errorf("sign-in state %+v, want %+v", st, want)
		}
	})
}
