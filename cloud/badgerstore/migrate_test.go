package badgerstore

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/comptoir/comptoir/cloud"
	"github.com/comptoir/comptoir/cloud/storetest"
	"github.com/comptoir/comptoir/edge"
)

// insightSnapshot is every figure of the returns insight a store answers
// on storetest.ReportFixture, and its API keys, as JSON.
func insightSnapshot(t *testing.T, s *Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	snap := map[string]any{}
	for _, scope := range []cloud.Scope{cloud.Network, cloud.MerchantScope("acme"), cloud.MerchantScope("beta")} {
		for _, by := range cloud.ReportDims {
			rows, err := s.ReturnsReport(ctx, scope, cloud.ReportQuery{From: day.AddDate(0, 0, -15), To: day.AddDate(0, 0, 2), By: by})
			if err != nil {
				t.Fatal(err)
			}
			snap["report "+scope.Merchant+" "+string(by)] = rows
		}
		for _, st := range []cloud.Stage{cloud.StageAwaitingHandover, cloud.StageAwaitingCarrier} {
			ps, err := s.StuckParcels(ctx, scope, cloud.StuckQuery{Stage: st, Before: day.AddDate(1, 0, 0), Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			snap["stuck "+scope.Merchant+" "+string(st)] = ps
		}
	}
	for _, tid := range []string{"t-1", "t-2"} {
		c, err := s.StatementCounts(ctx, tid, day.AddDate(0, 0, -19), day.AddDate(0, 0, 11))
		if err != nil {
			t.Fatal(err)
		}
		snap["statement "+tid] = c
	}
	refusals, err := s.RefusalCounts(ctx, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	snap["refusals"] = refusals
	keys, err := s.APIKeys(ctx)
	if err != nil {
		t.Fatalf("API keys: %v", err)
	}
	snap["api keys"] = keys
	out := map[string]string{}
	for k, v := range snap {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		out[k] = string(b)
	}
	return out
}

// fixtureStore returns the directory of a store holding ReportFixture and
// an API key, and the snapshot of its insight.
func fixtureStore(t *testing.T) (string, map[string]string) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	storetest.ReportFixture(t, s)
	if err := s.PutAPIKey(context.Background(), cloud.APIKey{Hash: cloud.HashSecret("op"), Role: cloud.RoleOperator}); err != nil {
		t.Fatal(err)
	}
	want := insightSnapshot(t, s)
	if !strings.Contains(want["refusals"], `"refusals":1`) || !strings.Contains(want["stuck  awaiting_handover"], `"tracking":"CARRIER1"`) ||
		!strings.Contains(want["report acme reason"], `"key":"CHANGED_MIND"`) {
		t.Fatalf("the fixture's snapshot misses figures:\n%v", want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, want
}

// rewrite changes the raw store in dir: a store as an older version left it.
func rewrite(t *testing.T, dir string, fn func(txn *badger.Txn, k, v []byte) error) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type kv struct{ k, v []byte }
	var all []kv
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			all = append(all, kv{it.Item().KeyCopy(nil), v})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, e := range all {
			if err := fn(txn, e.k, e.v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// oldTimeline writes the terminal events that the parcel k, v keeps as
// the t/ keys of stores written before parcels kept them, and returns the
// parcel.
func oldTimeline(txn *badger.Txn, k, v []byte) (cloud.Parcel, error) {
	p, refs, err := decodeParcelRecord(string(k[2:]), v)
	if err != nil {
		return p, err
	}
	return p, eachRef(refs, func(sk []byte) error {
		item, err := terminalItem(txn, sk)
		if err != nil {
			return err
		}
		return txn.Set(timelineKey(p.Tracking, item.entry), bytes.Clone(sk))
	})
}

func hasPrefix(k []byte, prefixes ...string) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(k, []byte(p)) {
			return true
		}
	}
	return false
}

// TestMigrateInsight opens stores left by older versions: one from before
// the returns insight (no facts, counters or stuck index; parcels of codec
// version 1), one of layout 0 (the stuck index under k/, among the API
// keys, which it broke; no refusals' counters), one of layout 1 (the
// reports' counters as JSON). Open rebuilds what
// each lacks, the figures equal those of the store written by this
// version, and a second Open rebuilds nothing.
func TestMigrateInsight(t *testing.T) {
	tests := []struct {
		name string
		old  func(txn *badger.Txn, k, v []byte) error
		// sinceLost: the parcels' since was not kept (codec version 1):
		// they wait since their creation.
		sinceLost bool
	}{
		{"before the insight", func(txn *badger.Txn, k, v []byte) error {
			switch {
			case hasPrefix(k, "f/", "a/", "b/", "R/", "K/", "_/insight"):
				return txn.Delete(k)
			case hasPrefix(k, "p/"):
				p, err := oldTimeline(txn, k, v)
				if err != nil {
					return err
				}
				b := encodeParcel(p, nil)
				b = append(append([]byte{parcelCodecV1}, b[1:9]...), b[17:]...)
				return txn.Set(k, b[:len(b)-1-len(p.Terminal)])
			}
			return nil
		}, true},
		{"stuck index among the API keys", func(txn *badger.Txn, k, v []byte) error {
			switch {
			case hasPrefix(k, "R/", "_/insight"):
				return txn.Delete(k)
			case hasPrefix(k, "K/"):
				if err := txn.Delete(k); err != nil {
					return err
				}
				return txn.Set(append([]byte("k/"), k[2:]...), v)
			}
			return nil
		}, false},
		{"report counters as JSON", func(txn *badger.Txn, k, v []byte) error {
			switch {
			case hasPrefix(k, "_/insight"):
				return txn.Set(k, []byte{1})
			case hasPrefix(k, "a/"):
				var c cloud.ReportSum
				if err := addEncoded(&c, v); err != nil {
					return err
				}
				return setJSON(txn, k, c.Counts())
			}
			return nil
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, want := fixtureStore(t)
			rewrite(t, dir, tt.old)

			var logs bytes.Buffer
			old := progressEvery
			progressEvery = 3
			t.Cleanup(func() { progressEvery = old })
			db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
			if err != nil {
				t.Fatal(err)
			}
			log := slog.New(slog.NewTextHandler(&logs, nil))
			if err := migrateInsight(db, log); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), "step=events done=3") || !strings.Contains(logs.String(), "returns insight rebuilt") {
				t.Errorf("no progress logged:\n%s", logs.String())
			}
			logs.Reset()
			if err := migrateInsight(db, log); err != nil || logs.Len() != 0 {
				t.Errorf("second migration: %v, logged %q; want nothing done", err, logs.String())
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got := insightSnapshot(t, s)
			for k, w := range want {
				g := got[k]
				if tt.sinceLost && strings.HasPrefix(k, "stuck ") {
					g, w = withoutSince(t, g), withoutSince(t, w)
				}
				if g != w {
					t.Errorf("%s after the migration:\n%s\nwant:\n%s", k, g, w)
				}
			}
			// The store goes on counting from the figures rebuilt.
			at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			ref := storetest.Op("t-1", 9, edge.OpReturnRefused, "", at)
			ref.Data = json.RawMessage(`{"reason":"EXPIRED"}`)
			if _, err := s.StoreEvents(context.Background(), "t-1", []edge.Operation{ref}, at); err != nil {
				t.Fatal(err)
			}
			if got := insightSnapshot(t, s); !strings.Contains(got["refusals"], `"refusals":2`) || !strings.Contains(got["statement t-1"], `"refusals":2`) {
				t.Errorf("after one more refusal: %s, %s; want 2 of them", got["refusals"], got["statement t-1"])
			}
		})
	}
}

// withoutSince returns a stuck list without its since, sorted by
// tracking, and without the terminal of the parcels handed over: a
// version 1 parcel knew only its holder, which a handover clears (as
// PostgreSQL's migration 0006 does, these wait with no terminal).
func withoutSince(t *testing.T, list string) string {
	var ps []cloud.StuckParcel
	if err := json.Unmarshal([]byte(list), &ps); err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		ps[i].Since = time.Time{}
		if ps[i].Stage == cloud.StageAwaitingCarrier {
			ps[i].Terminal = ""
		}
	}
	slices.SortFunc(ps, func(a, b cloud.StuckParcel) int { return strings.Compare(a.Tracking, b.Tracking) })
	b, _ := json.Marshal(ps)
	return string(b)
}

// TestMigrateEmpty: a new store records the layout at once.
func TestMigrateEmpty(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(insightLayoutKey)
		if err != nil {
			return err
		}
		return item.Value(func(b []byte) error {
			if !bytes.Equal(b, []byte{insightLayout}) {
				t.Errorf("layout %v, want %d", b, insightLayout)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}
