package badgerstore

import (
	"fmt"
	"testing"
)

// TestKeyFilter: every key added, at Open (newKeyFilter) or since
// (testAndAdd, add), is answered "maybe" (a "no" would store an event
// twice or miss a conflict); keys never added are answered "no" but for
// about 1.5 % of them at the size the filter is made for, and a second
// testAndAdd of a key says it was there.
func TestKeyFilter(t *testing.T) {
	const loaded, added = 200_000, 300_000 // 1<<20 keys sized for: 2^20 / 2 loaded
	keys := make([][]byte, loaded)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "LG%07dFR", i)
	}
	f := newKeyFilter(keys)
	for i := range loaded {
		if !f.mayExist(string(keys[i])) {
			t.Fatalf("loaded key %s: not in the filter", keys[i])
		}
	}
	newKeys := 0
	for i := range added {
		k := fmt.Sprintf("t-%03d-%d", i%997, i)
		if f.testAndAdd(k) {
			continue // a false positive, counted below
		}
		newKeys++
		if !f.testAndAdd(k) {
			t.Fatalf("key %s added: a second testAndAdd says it is new", k)
		}
	}
	for i := range added {
		if k := fmt.Sprintf("t-%03d-%d", i%997, i); !f.mayExist(k) {
			t.Fatalf("added key %s: not in the filter", k)
		}
	}
	f.add("only-added")
	if !f.mayExist("only-added") {
		t.Fatal("a key given to add: not in the filter")
	}
	// 500,000 keys in, about half the filter's size: false positives
	// well under 2 %.
	fp := 0
	const probes = 200_000
	for i := range probes {
		if f.mayExist(fmt.Sprintf("absent-%d", i)) {
			fp++
		}
	}
	if rate := float64(fp) / probes; rate > 0.02 {
		t.Errorf("false positives %.2f %% (%d of %d), want under 2 %%", 100*rate, fp, probes)
	} else {
		t.Logf("false positives %.3f %%; %d of %d added keys were new", 100*rate, newKeys, added)
	}
	if added-newKeys > added/50 {
		t.Errorf("%d of %d new keys answered maybe", added-newKeys, added)
	}
}
