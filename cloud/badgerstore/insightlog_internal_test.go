package badgerstore

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// slowFold makes the fold loop wait an hour between two folds, so that
// the records a test writes stay until it folds them.
func slowFold(t *testing.T) {
	old := foldEvery
	foldEvery = time.Hour
	t.Cleanup(func() { foldEvery = old })
}

// keysUnder returns the keys and values of s under the prefixes.
func keysUnder(t *testing.T, s *Store, prefixes ...string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := s.db.View(func(txn *badger.Txn) error {
		for _, p := range prefixes {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
			for it.Rewind(); it.Valid(); it.Next() {
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					it.Close()
					return err
				}
				out[string(it.Item().KeyCopy(nil))] = v
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// allReports returns every report of the network over the fixture's
// month, a line a row.
func allReports(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, by := range []cloud.ReportBy{cloud.ByReason, cloud.BySKU, cloud.ByDisposition, cloud.ByResolution, cloud.ByRelayPoint, cloud.ByCarrier} {
		rows, err := s.ReturnsReport(context.Background(), cloud.Network, cloud.ReportQuery{From: day, To: day.AddDate(0, 1, 0), By: by})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			fmt.Fprintln(&b, by, strings.Join(r.Record(), " "))
		}
	}
	return b.String()
}

// insightFixture stores the reports' fixture, and a partner's step of a
// return (a record of AddPartnerEntry).
func insightFixture(t *testing.T, s *Store) {
	t.Helper()
	storetest.ReportFixture(t, s)
	at := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	e := cloud.TimelineEntry{Status: cloud.StatusReceivedAtWarehouse, OccurredAt: at, ReceivedAt: at, Source: cloud.SourcePartner, EventID: "w-1"}
	move := func(p cloud.Parcel) (cloud.Parcel, error) { p.Status = cloud.StatusReceivedAtWarehouse; return p, nil }
	if _, err := s.AddPartnerEntry(context.Background(), cloud.Network, "A1", e, move); err != nil {
		t.Fatal(err)
	}
}

// TestInsightRecordsOpen: the records a store closed without folding
// (as a crash would leave them: before a fold, or between its two steps,
// the facts written and the counters not) are folded by Open, which leaves
// the very facts and counters (f/, a/ keys, byte for byte) and reports of
// the same store folded at once, and no record.
func TestInsightRecordsOpen(t *testing.T) {
	slowFold(t)
	ctx := context.Background()
	ref, err := OpenWith(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	insightFixture(t, ref)
	wantReports := allReports(t, ref) // folds
	want := keysUnder(t, ref, "f/", "a/", "b/", "R/")
	if n := len(keysUnder(t, ref, "b/", "R/")); n < 2 {
		t.Fatalf("reference: %d statements' and refusals' counters, want some of each", n)
	}
	if len(want) < 20 || !strings.Contains(wantReports, "carrier DEMO") {
		t.Fatalf("reference: %d keys, reports:\n%s", len(want), wantReports)
	}

	for _, tc := range []struct {
		name  string
		crash func(s *Store) error // what the store does before it stops
	}{
		{"before a fold", func(*Store) error { return nil }},
		{"between the fold's steps", func(s *Store) error {
			s.out.mu.Lock()
			defer s.out.mu.Unlock()
			return s.foldFacts(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenWith(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			insightFixture(t, s)
			if n := len(keysUnder(t, s, insightLogPrefix)); n < 5 {
				t.Fatalf("%d records stored, want the fixture's transactions'", n)
			}
			if err := tc.crash(s); err != nil {
				t.Fatal(err)
			}
			s.keepRecords = true
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s, err = OpenWith(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n := len(keysUnder(t, s, insightLogPrefix)); n != 0 {
				t.Errorf("%d records left after Open", n)
			}
			got := keysUnder(t, s, "f/", "a/", "b/", "R/")
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(maps.Keys(want))) {
				t.Errorf("keys after Open:\n%q\nwant:\n%q", keys, slices.Sorted(maps.Keys(want)))
			}
			for k, v := range want {
				if string(got[k]) != string(v) {
					t.Errorf("%q: %x, want %x", k, got[k], v)
				}
			}
			if r := allReports(t, s); r != wantReports {
				t.Errorf("reports after Open:\n%s\nwant:\n%s", r, wantReports)
			}
		})
	}
}

// TestInsightRecordCodec: a record decodes to what it was made from
// (and one of version 1, without statements nor refusals, still does); a
// record cut short or padded is refused.
func TestInsightRecordCodec(t *testing.T) {
	in := &insight{}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	f := cloud.NewReturnFacts(cloud.Return{Merchant: "acme", Tracking: "A1", Carrier: "DEMO", CreatedAt: at})
	in.facts = map[string]*groupFacts{"A1": {f: f, found: true, changed: true}, "A2": {f: f, found: true}}
	f.CreatedEach(in.counts.adder(&f))
	f.ObserveEach(cloud.ReportStep{Status: cloud.StatusDeposited, At: at.Add(time.Hour), Terminal: "t-1"}, in.counts.adder(&f))
	in.facts["A1"].f = f
	v1 := in.record() // no statements nor refusals yet: two empty lists at the end
	v1 = append([]byte{insightRecordVersionV1}, v1[1:len(v1)-2]...)
	in.statements = map[string]*cloud.StatementCounts{"b/t-1\x002026-11": {Deposits: 3, Cancelled: 1, Refusals: 2}, "b/t-2\x002026-11": {Handovers: 1, Instore: 4}}
	in.refusals = map[string]uint64{"R/x": 2, "R/y": 1}
	b := in.record()

	l := newInsightLog()
	if err := l.add(b); err != nil {
		t.Fatal(err)
	}
	if len(l.facts) != 1 || !l.facts["A1"].Same(f) || l.facts["A1"].Merchant != "acme" {
		t.Errorf("facts = %+v, want A1's only: %+v", l.facts, f)
	}
	if !reflect.DeepEqual(l.statements, in.statements) || !reflect.DeepEqual(l.refusals, in.refusals) {
		t.Errorf("statements %v, refusals %v, want %v, %v", l.statements, l.refusals, in.statements, in.refusals)
	}
	old := newInsightLog()
	if err := old.add(v1); err != nil {
		t.Fatalf("record of version 1: %v", err)
	}
	if len(old.facts) != 1 || len(old.counts) != len(l.counts) || len(old.statements) != 0 {
		t.Errorf("record of version 1: %d facts, %d counters, %d statements; want 1, %d, 0", len(old.facts), len(old.counts), len(old.statements), len(l.counts))
	}
	want := newInsightLog()
	want.absorb(&insight{seq: 1, facts: in.facts, counts: in.counts})
	if len(l.counts) != len(want.counts) || len(l.counts) < 2 {
		t.Fatalf("%d counters, want %d", len(l.counts), len(want.counts))
	}
	for id, c := range want.counts {
		if got := l.counts[id]; got == nil || fmt.Sprint(*got) != fmt.Sprint(*c) {
			t.Errorf("%+v: %+v, want %+v", id, got, c)
		}
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(slices.Clone(b), 0), nil, {2}} {
		if err := newInsightLog().add(bad); err == nil {
			t.Errorf("record %x decoded", bad)
		}
	}
}

// FuzzInsightRecord: no record makes add panic.
func FuzzInsightRecord(f *testing.F) {
	in := &insight{}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	facts := cloud.NewReturnFacts(cloud.Return{Merchant: "acme", Tracking: "A1", Carrier: "DEMO", CreatedAt: at})
	in.facts = map[string]*groupFacts{"A1": {f: facts, changed: true}}
	facts.CreatedEach(in.counts.adder(&facts))
	in.statements = map[string]*cloud.StatementCounts{"b/t-1\x002026-11": {Deposits: 1, Cancelled: -1}}
	in.refusals = map[string]uint64{"R/x": 1}
	f.Add(in.record())
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = newInsightLog().add(b)
	})
}

// TestInsightKill kills (SIGKILL) a process that stores returns' steps
// while it folds its records every few milliseconds, wherever it is then;
// the store it leaves, opened, answers the reports that a rebuild of the
// insight from its returns and events answers.
func TestInsightKill(t *testing.T) {
	if dir := os.Getenv("COMPTOIR_INSIGHT_KILL_DIR"); dir != "" {
		killedChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("a subprocess")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInsightKill$")
	cmd.Env = append(os.Environ(), "COMPTOIR_INSIGHT_KILL_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	batches := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && batches < 12 {
		if strings.HasPrefix(sc.Text(), "batch ") {
			batches++
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if batches < 12 {
		t.Fatalf("the child stored %d batches", batches)
	}

	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	left := 0
	_ = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(insightLogPrefix)})
		for it.Rewind(); it.Valid(); it.Next() {
			left++
		}
		it.Close()
		return nil
	})
	t.Logf("killed after %d batches, %d records left", batches, left)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := allReports(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A rebuild from the returns and events (migrate.go).
	db, err = badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set(insightLayoutKey, []byte{0}) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := allReports(t, s)
	if got != want || !strings.Contains(want, "carrier DEMO") {
		t.Errorf("reports after the kill:\n%s\nrebuilt:\n%s", got, want)
	}
}

// killedChild stores batches of returns' steps in dir until killed,
// folding every 2 ms, and prints "batch N" after each.
func killedChild(t *testing.T, dir string) {
	foldEvery = 2 * time.Millisecond
	s, err := OpenWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, at := context.Background(), time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	items := []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonChangedMind}, {SKU: "S2", Qty: 1, Reason: edge.ReasonWrongSize}}
	if err := s.CreateMerchant(ctx, cloud.Merchant{ID: "acme", Name: "ACME", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	seq := uint64(0)
	for i := 0; ; i++ {
		var deps, hands []edge.Operation
		for j := range 32 {
			n := i*32 + j
			r := cloud.Return{ID: fmt.Sprintf("ra-%d", n), Merchant: "acme", Tracking: fmt.Sprintf("RK%09dFR", n), Carrier: "DEMO",
				Items: items[:1+n%2], CreatedAt: at, Token: "t", ExpiresAt: at.AddDate(0, 1, 0)}
			if err := s.CreateReturn(ctx, r); err != nil {
				t.Fatal(err)
			}
			seq++
			dep := storetest.Op("t-1", seq, edge.OpReturnDeposited, r.Tracking, at.Add(time.Duration(1+n%7)*time.Hour))
			dep.Data, _ = json.Marshal(edge.DepositData{RAID: r.ID, Verified: true, Mode: edge.ModeLabelAtCounter, Items: r.Items})
			deps = append(deps, dep)
			seq++
			hands = append(hands, storetest.Op("t-1", seq, edge.OpParcelHandedOver, r.Tracking, at.Add(time.Duration(9+n%5)*time.Hour)))
		}
		for _, evs := range [][]edge.Operation{deps, hands} {
			if _, err := s.StoreEvents(ctx, "t-1", evs, at); err != nil {
				t.Fatal(err)
			}
		}
		fmt.Println("batch", i)
	}
}

// TestFoldStoredCounters: a fold adds to the counters it folded lately
// from memory (insightLog.stored) rather than reading a/, and leaves the
// very counters (byte for byte) of a store that folded the same steps at
// once; what it keeps in memory is what a/ holds.
func TestFoldStoredCounters(t *testing.T) {
	slowFold(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	warehouse := func(t *testing.T, s *Store) {
		t.Helper()
		e := cloud.TimelineEntry{Status: cloud.StatusReceivedAtWarehouse, OccurredAt: at, ReceivedAt: at, Source: cloud.SourcePartner, EventID: "w-2"}
		move := func(p cloud.Parcel) (cloud.Parcel, error) { p.Status = cloud.StatusReceivedAtWarehouse; return p, nil }
		if _, err := s.AddPartnerEntry(ctx, cloud.Network, "A2", e, move); err != nil {
			t.Fatal(err)
		}
	}
	// inMemory checks that every counter s keeps in memory is a/'s.
	inMemory := func(t *testing.T, s *Store) {
		t.Helper()
		a := keysUnder(t, s, "a/")
		for id, b := range s.log.stored {
			if v, ok := a[string(id.bytes())]; !ok || string(v) != string(b) {
				t.Errorf("%+v in memory %x, a/ %x", id, b, v)
			}
		}
	}
	ref, err := OpenWith(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	insightFixture(t, ref)
	warehouse(t, ref)
	if err := ref.fold(ctx); err != nil {
		t.Fatal(err)
	}
	want := keysUnder(t, ref, "a/")

	s, err := OpenWith(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	insightFixture(t, s)
	if err := s.fold(ctx); err != nil {
		t.Fatal(err)
	}
	first := keysUnder(t, s, "a/")
	if len(s.log.stored) != len(first) || len(first) < 20 {
		t.Fatalf("%d counters in memory after the first fold, %d under a/", len(s.log.stored), len(first))
	}
	inMemory(t, s)
	warehouse(t, s)
	cached := 0
	for id := range s.log.counts {
		if _, ok := s.log.stored[id]; ok {
			cached++
		}
	}
	if cached == 0 {
		t.Fatalf("none of the %d counters the step changed is in memory", len(s.log.counts))
	}
	if err := s.fold(ctx); err != nil {
		t.Fatal(err)
	}
	got := keysUnder(t, s, "a/")
	if maps.EqualFunc(got, first, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatal("the second fold changed no counter")
	}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(maps.Keys(want))) {
		t.Errorf("keys:\n%q\nwant:\n%q", keys, slices.Sorted(maps.Keys(want)))
	}
	for k, v := range want {
		if string(got[k]) != string(v) {
			t.Errorf("%q: %x, want %x", k, got[k], v)
		}
	}
	inMemory(t, s)
	if r, w := allReports(t, s), allReports(t, ref); r != w {
		t.Errorf("reports:\n%s\nwant:\n%s", r, w)
	}
}

// TestInsightRecordAllocs: a record is encoded in one buffer, with one
// more for the value being encoded, however many returns and counters it
// holds (it made one allocation a return and a counter before).
func TestInsightRecordAllocs(t *testing.T) {
	in := &insight{facts: map[string]*groupFacts{}}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range 16 {
		tracking := fmt.Sprintf("A%d", i)
		f := cloud.NewReturnFacts(cloud.Return{Merchant: "acme", Tracking: tracking, Carrier: "DEMO", CreatedAt: at,
			Items: []edge.Item{{SKU: "SKU-1", Qty: 1, Reason: "size"}}})
		f.CreatedEach(in.counts.adder(&f))
		f.ObserveEach(cloud.ReportStep{Status: cloud.StatusDeposited, At: at.Add(time.Hour), Terminal: "t-1"}, in.counts.adder(&f))
		in.facts[tracking] = &groupFacts{f: f, found: true, changed: true}
	}
	if len(in.counts) < 4 {
		t.Fatalf("%d counters, want several", len(in.counts))
	}
	if n := testing.AllocsPerRun(20, func() { in.record() }); n > 2 {
		t.Errorf("%v allocations a record of %d returns and %d counters, want 2 at most", n, len(in.facts), len(in.counts))
	}
}
