package badgerstore

import (
	"bufio"
	"context"
	"encoding/binary"
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
// (as a crash would leave them: right after the group commits that wrote
// them, or after a fold of the first of them) are folded by Open, which leaves
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
		{"after a fold of its first records", func(s *Store) error {
			if err := s.foldTo(ctx, 3); err != nil {
				return err
			}
			if n := len(keysUnder(t, s, insightLogPrefix)); n < 2 || len(s.log.records) != n || s.log.records[0].seq != 4 {
				return fmt.Errorf("%d records left, %d in memory; want the fixture's from the 4th", n, len(s.log.records))
			}
			return nil
		}},
		{"after folds of a record each", func(s *Store) error {
			defer func(n int) { foldChunk = n }(foldChunk)
			foldChunk = 1
			return s.fold(ctx)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := OpenWith(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			insightFixture(t, s)
			records := keysUnder(t, s, insightLogPrefix)
			if len(records) < 5 {
				t.Fatalf("%d records stored, want the fixture's transactions'", len(records))
			}
			steps, created := 0, 0
			for k, b := range records {
				in, err := decodeRecord(b)
				if err != nil || b[0] != insightRecordVersion {
					t.Fatalf("record %q: version %d, %v", k, b[0], err)
				}
				steps, created = steps+len(in.steps), created+len(in.created)
			}
			if steps < 10 || created < 3 {
				t.Fatalf("records of %d steps and %d new returns, want the fixture's", steps, created)
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

// recordV2 returns a record of version 2, as an older binary wrote it:
// the facts each return was left with and the change of each counter,
// then the statements' and refusals' changes.
func recordV2(facts map[string]cloud.ReturnFacts, counts reportCounts, statements map[string]*cloud.StatementCounts, refusals map[string]uint64) []byte {
	b := []byte{insightRecordVersionV2}
	b = binary.AppendUvarint(b, uint64(len(facts)))
	for tracking, f := range facts {
		b = appendRef(appendField(b, tracking), encodeFacts(&f))
	}
	b = binary.AppendUvarint(b, uint64(len(counts)))
	for id, sum := range counts {
		b = appendField(appendField(b, string(id.by)), id.merchant)
		b = binary.AppendUvarint(b, id.day)
		b = appendRef(appendField(b, id.key), encodeCounts(sum))
	}
	return appendStatements(b, statements, refusals)
}

// codecFixture returns an insight of two new returns, steps (one an
// in-store receipt's), statements and refusals.
func codecFixture() *insight {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	r := cloud.Return{Merchant: "acme", Tracking: "A1", Carrier: "DEMO", CreatedAt: at,
		Items: []edge.Item{{SKU: "S1", Qty: 1, Reason: edge.ReasonWrongSize}}}
	in := &insight{created: map[string]cloud.ReturnFacts{"A1": cloud.NewReturnFacts(r)}}
	r.Tracking, r.Carrier = "A2", "UPS"
	in.created["A2"] = cloud.NewReturnFacts(r)
	data, _ := json.Marshal(edge.InstoreData{RAID: "ra-1", Resolution: edge.ResolutionRefund,
		Items: []edge.InstoreItem{{SKU: "S1", Qty: 1, Disposition: edge.DispositionRestock}}})
	in.steps = []cloud.PendingStep{
		{Tracking: "A1", Status: cloud.StatusDeposited, At: at.Add(time.Hour + 7), Terminal: "t-1"},
		{Tracking: "A2", Status: cloud.StatusReceivedInStore, At: at.Add(2 * time.Hour), Terminal: "t-2", Instore: data},
		{Tracking: "A1", Status: cloud.StatusReceivedAtWarehouse, At: at.Add(-time.Hour)},
	}
	in.statements = map[string]*cloud.StatementCounts{"b/t-1\x002026-11": {Deposits: 3, Cancelled: -1, Refusals: 2}, "b/t-2\x002026-11": {Handovers: 1, Instore: 4}}
	in.refusals = map[string]uint64{"R/x": 2, "R/y": 1}
	return in
}

// TestInsightRecordCodec: a record decodes to what it was made from, and
// its steps to the report steps of their events; records of versions 1
// and 2 (the facts and counters' changes of older binaries) still
// decode; a record cut short or padded is refused.
func TestInsightRecordCodec(t *testing.T) {
	in := codecFixture()
	b := in.record()
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.created, in.created) || !reflect.DeepEqual(got.steps, in.steps) {
		t.Errorf("created %+v, steps %+v; want %+v, %+v", got.created, got.steps, in.created, in.steps)
	}
	if !reflect.DeepEqual(got.statements, in.statements) || !reflect.DeepEqual(got.refusals, in.refusals) {
		t.Errorf("statements %v, refusals %v, want %v, %v", got.statements, got.refusals, in.statements, in.refusals)
	}
	if st := got.steps[1].ReportStep(); st.Instore == nil || st.Instore.Resolution != edge.ResolutionRefund || st.Terminal != "t-2" {
		t.Errorf("in-store step: %+v, want the receipt's grades", st)
	}
	op := storetest.Op("t-2", 1, edge.OpInstoreReceived, "A2", in.steps[1].At)
	op.Data = in.steps[1].Instore
	if st, want := got.steps[1].ReportStep(), cloud.ReportStepOf(op); !reflect.DeepEqual(st, want) {
		t.Errorf("step of an in-store receipt %+v, want %+v", st, want)
	}
	op.Data = json.RawMessage(`{"items":"no"}`)
	if st := cloud.PendingStepOf(op).ReportStep(); st.Instore != nil || cloud.ReportStepOf(op).Instore != nil {
		t.Errorf("step of grades that do not decode: %+v", st.Instore)
	}

	// Versions 2 and 1.
	f := in.created["A1"]
	var counts reportCounts
	f.CreatedEach(counts.adder(&f))
	f.ObserveEach(in.steps[0].ReportStep(), counts.adder(&f))
	v2 := recordV2(map[string]cloud.ReturnFacts{"A1": f}, counts, in.statements, in.refusals)
	v1 := append([]byte{insightRecordVersionV1}, recordV2(map[string]cloud.ReturnFacts{"A1": f}, counts, nil, nil)[1:]...)
	v1 = v1[:len(v1)-2] // no statements nor refusals
	for _, tc := range []struct {
		b          []byte
		statements int
	}{{v2, 2}, {v1, 0}} {
		old, err := decodeRecord(tc.b)
		if err != nil {
			t.Fatalf("record of version %d: %v", tc.b[0], err)
		}
		if len(old.facts) != 1 || !old.facts["A1"].Same(f) || old.facts["A1"].Merchant != "acme" || len(old.statements) != tc.statements {
			t.Errorf("record of version %d: facts %+v, %d statements; want A1's %+v, %d", tc.b[0], old.facts, len(old.statements), f, tc.statements)
		}
		if len(old.counts) != len(counts) || len(counts) < 4 {
			t.Fatalf("record of version %d: %d counters, want %d", tc.b[0], len(old.counts), len(counts))
		}
		for id, c := range counts {
			if got := old.counts[id]; got == nil || fmt.Sprint(*got) != fmt.Sprint(*c) {
				t.Errorf("%+v: %+v, want %+v", id, got, c)
			}
		}
	}
	for _, bad := range [][]byte{b[:len(b)-1], append(slices.Clone(b), 0), v2[:len(v2)-1], nil, {3}, {4, 0, 0, 0, 0}} {
		if _, err := decodeRecord(bad); err == nil {
			t.Errorf("record %x decoded", bad)
		}
	}
}

// FuzzInsightRecord: no record makes decodeRecord panic, and a record
// that decodes encodes back to one that decodes the same.
func FuzzInsightRecord(f *testing.F) {
	in := codecFixture()
	f.Add(in.record())
	fa := in.created["A1"]
	var counts reportCounts
	fa.CreatedEach(counts.adder(&fa))
	f.Add(recordV2(in.created, counts, in.statements, in.refusals))
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := decodeRecord(b)
		if err != nil || b[0] != insightRecordVersion || in.record() == nil {
			return
		}
		again, err := decodeRecord(in.record())
		if err != nil || !reflect.DeepEqual(again.steps, in.steps) || len(again.created) != len(in.created) {
			t.Errorf("record %x: decoded %+v, encoded and decoded %+v, %v", b, in, again, err)
		}
	})
}

// TestFoldOldRecords: records of version 2 an older binary left, and one
// of version 3 after them, are folded by Open into the facts and
// counters the same steps leave.
func TestFoldOldRecords(t *testing.T) {
	in := codecFixture()
	var counts, want reportCounts
	facts := map[string]cloud.ReturnFacts{}
	for tracking, f := range in.created {
		f.CreatedEach(counts.adder(&f))
		facts[tracking] = f
	}
	f := facts["A1"]
	f.ObserveEach(in.steps[0].ReportStep(), counts.adder(&f))
	facts["A1"] = f
	for id, c := range counts {
		want.addSum(id, c)
	}
	later := &insight{steps: in.steps[1:]}
	for _, st := range later.steps {
		f := facts[st.Tracking]
		f.ObserveEach(st.ReportStep(), want.adder(&f))
		facts[st.Tracking] = f
	}

	dir := t.TempDir()
	s, err := OpenWith(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		for seq, b := range [][]byte{recordV2(map[string]cloud.ReturnFacts{"A2": in.created["A2"]}, nil, nil, nil),
			recordV2(map[string]cloud.ReturnFacts{"A1": f}, counts, in.statements, in.refusals), later.record()} {
			if err := txn.Set(insightLogKey(uint64(seq+1)), b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.keepRecords = true
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = OpenWith(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := keysUnder(t, s, "f/", "a/", "b/", "R/", insightLogPrefix)
	if len(got) != len(facts)+len(want)+len(in.statements)+len(in.refusals) {
		t.Errorf("%d keys, want %d", len(got), len(facts)+len(want)+len(in.statements)+len(in.refusals))
	}
	for tracking, f := range facts {
		if v := got[string(factsKey(tracking))]; string(v) != string(encodeFacts(&f)) {
			t.Errorf("facts of %s: %x, want %x", tracking, v, encodeFacts(&f))
		}
	}
	for id, c := range want {
		if v := got[string(id.bytes())]; string(v) != string(encodeCounts(c)) {
			t.Errorf("%+v: %x, want %x", id, v, encodeCounts(c))
		}
	}
	if v := got["R/x"]; len(v) != 8 || binary.BigEndian.Uint64(v) != 2 {
		t.Errorf("R/x: %x, want 2", v)
	}
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

// TestFoldStoredCounters: a fold applies a step to the facts, and adds to
// the counters, it folded lately from memory (insightLog.folded, .stored)
// rather than reading f/ and a/, and leaves the
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
	// inMemory checks that every counter and every return's facts s
	// keeps in memory are a/'s and f/'s.
	inMemory := func(t *testing.T, s *Store) {
		t.Helper()
		a := keysUnder(t, s, "a/", "f/")
		for id, b := range s.log.stored {
			if v, ok := a[string(id.bytes())]; !ok || string(v) != string(b) {
				t.Errorf("%+v in memory %x, a/ %x", id, b, v)
			}
		}
		for tracking, f := range s.log.folded {
			if v, ok := a[string(factsKey(tracking))]; !ok || string(v) != string(encodeFacts(f)) {
				t.Errorf("%s in memory %+v, f/ %x", tracking, *f, v)
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
	if f := keysUnder(t, s, "f/"); len(s.log.folded) != len(f) || len(f) < 2 {
		t.Fatalf("%d returns' facts in memory after the first fold, %d under f/", len(s.log.folded), len(f))
	}
	inMemory(t, s)
	warehouse(t, s)
	reads := s.log.reads
	if err := s.fold(ctx); err != nil {
		t.Fatal(err)
	}
	if reads == 0 || s.log.reads != reads {
		t.Errorf("the fold of a step of a return folded lately read %d f/ and a/ keys (the first fold %d), want none", s.log.reads-reads, reads)
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
// more for the facts of a new return being encoded, however many steps
// it holds (it made one allocation a return and a counter before).
func TestInsightRecordAllocs(t *testing.T) {
	in := &insight{}
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range 64 {
		op := storetest.Op("t-1", uint64(i), []edge.OpType{edge.OpReturnDeposited, edge.OpInstoreReceived}[i%2], fmt.Sprintf("RK%09dFR", i), at)
		op.Data = json.RawMessage(`{"ra_id":"ra-1","resolution":"refund","items":[{"sku":"S1","qty":1,"disposition":"restock"}]}`)
		in.steps = append(in.steps, cloud.PendingStepOf(op))
	}
	in.statements = map[string]*cloud.StatementCounts{"b/t-1\x002026-11": {Deposits: 32, Instore: 32}}
	if n := testing.AllocsPerRun(20, func() { in.record() }); n > 1 {
		t.Errorf("%v allocations a record of %d steps, want 1", n, len(in.steps))
	}
	in.created = codecFixture().created
	if n := testing.AllocsPerRun(20, func() { in.record() }); n > 2 {
		t.Errorf("%v allocations a record of %d steps and %d returns, want 2 at most", n, len(in.steps), len(in.created))
	}
}

// TestFoldTxnTooBig: records whose facts do not fit one Badger
// transaction (a store whose memtable takes 256 KB: a transaction of
// about 40 KB at most) are folded in parts (foldTo halves what it took
// on badger.ErrTxnTooBig), each part whole: the facts and counters are
// those of a store that folded the same returns as they came, and no
// record is left.
func TestFoldTxnTooBig(t *testing.T) {
	slowFold(t)
	ctx := context.Background()
	small, err := open(badger.DefaultOptions(t.TempDir()).WithValueThreshold(valueThreshold).WithMemTableSize(1<<18), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	ref, err := OpenWith(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	create := func(s *Store, i int) {
		t.Helper()
		r := cloud.Return{ID: fmt.Sprintf("ra-big-%d", i), Merchant: "acme", Tracking: fmt.Sprintf("BIG%05d", i), Carrier: "UPS",
			CreatedAt: at.Add(time.Duration(i) * time.Minute), ExpiresAt: at.AddDate(0, 1, 0), Token: "t",
			Items: []edge.Item{{SKU: fmt.Sprintf("SKU-%d", i%40), Qty: 1, Reason: edge.ReasonDamaged}}}
		if err := s.CreateReturn(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	const n = 1200
	small.log.mu.Lock() // no fold while the records come
	var bytes int64
	for i := range n {
		create(small, i)
		create(ref, i)
		if i%50 == 49 {
			if err := ref.fold(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	small.out.mu.Lock()
	for _, in := range small.log.records {
		for tr, f := range in.created {
			bytes += int64(len(factsKey(tr)) + len(encodeFacts(&f)))
		}
	}
	small.out.mu.Unlock()
	small.log.mu.Unlock()
	if max := small.db.MaxBatchSize(); bytes <= max {
		t.Fatalf("the records' facts take %d bytes, one transaction %d: want more than one fits", bytes, max)
	}
	if err := small.fold(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ref.fold(ctx); err != nil {
		t.Fatal(err)
	}
	got, want := keysUnder(t, small, "f/", "a/", insightLogPrefix), keysUnder(t, ref, "f/", "a/", insightLogPrefix)
	if len(want) < n || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the fold: %d keys, want the reference's %d (f/ and a/ byte for byte, no i/)", len(got), len(want))
	}
}
